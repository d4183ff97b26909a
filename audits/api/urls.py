"""/api/v1/ — see README "REST API" and /api/docs/."""

from django.urls import URLPattern, URLResolver, path

from audits.api import views
from audits.api.badge import ProjectBadgeView
from audits.api.next_steps import AuditNextStepsView, ItemOwnerView
from audits.api.staleness import ProjectLiveScoreView
from audits.exemptions.api import ExemptionDecisionView

urlpatterns: list[URLPattern | URLResolver] = [
    path("rubrics/", views.RubricListView.as_view(), name="api-rubric-list"),
    path("rubrics/<slug:slug>/", views.RubricDetailView.as_view(), name="api-rubric-detail"),
    path("projects/", views.ProjectListView.as_view(), name="api-project-list"),
    path("projects/<slug:slug>/", views.ProjectDetailView.as_view(), name="api-project-detail"),
    path("projects/<slug:slug>/audits/", views.ProjectAuditListView.as_view(), name="api-project-audits"),
    path("projects/<slug:slug>/trend/", views.ProjectTrendView.as_view(), name="api-project-trend"),
    path("projects/<slug:slug>/live-score/", ProjectLiveScoreView.as_view(), name="api-project-live-score"),
    path("projects/<slug:slug>/badge.svg", ProjectBadgeView.as_view(), name="api-project-badge"),
    path("audits/<int:audit_id>/", views.AuditDetailView.as_view(), name="api-audit-detail"),
    path("audits/<int:audit_id>/answers/", views.AuditAnswersView.as_view(), name="api-audit-answers"),
    path("audits/<int:audit_id>/submit/", views.AuditSubmitView.as_view(), name="api-audit-submit"),
    path("audits/<int:audit_id>/score/", views.AuditScoreView.as_view(), name="api-audit-score"),
    path("audits/<int:audit_id>/export/", views.AuditExportView.as_view(), name="api-audit-export"),
    path(
        "audits/<int:audit_id>/exemptions/<slug:item>/decision/",
        ExemptionDecisionView.as_view(),
        name="api-exemption-decision",
    ),
    path("audits/<int:audit_id>/next-steps/", AuditNextStepsView.as_view(), name="api-audit-next-steps"),
    path("audits/<int:audit_id>/items/<slug:item>/owner/", ItemOwnerView.as_view(), name="api-item-owner"),
    path("portfolio/", views.PortfolioView.as_view(), name="api-portfolio"),
]
