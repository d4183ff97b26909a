from django.urls import path

from audits.assignments import views as assignments
from audits.exemptions import views as exemptions
from audits.views import answers, projects, questionnaire, teams

app_name = "audits"

urlpatterns = [
    path("projects/", projects.project_list, name="project-list"),
    path("projects/new/", projects.project_create, name="project-create"),
    path("projects/<slug:slug>/", projects.project_detail, name="project-detail"),
    path("projects/<slug:slug>/edit/", projects.project_edit, name="project-edit"),
    path("projects/<slug:slug>/audits/new/", projects.audit_start, name="audit-start"),
    path("audits/<int:audit_id>/", questionnaire.audit_detail, name="audit-detail"),
    path("audits/<int:audit_id>/answers/<slug:item_code>/", answers.answer_save, name="answer-save"),
    path("audits/<int:audit_id>/items/<slug:item_code>/history/", questionnaire.item_history, name="item-history"),
    path("audits/<int:audit_id>/items/<slug:item_code>/owner/", assignments.item_owner, name="item-owner"),
    path("audits/<int:audit_id>/submit/", questionnaire.audit_submit, name="audit-submit"),
    path("audits/<int:audit_id>/history/", questionnaire.audit_history, name="audit-history"),
    path(
        "audits/<int:audit_id>/exemptions/<slug:item_code>/decision/",
        exemptions.exemption_decision,
        name="exemption-decide",
    ),
    path("teams/", teams.team_list, name="team-list"),
    path("teams/<slug:slug>/", teams.team_detail, name="team-detail"),
    path("teams/<slug:slug>/members/", teams.member_set, name="member-set"),
    path("teams/<slug:slug>/members/<int:membership_id>/remove/", teams.member_remove, name="member-remove"),
]
