from django.urls import path

from audits.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.portfolio_view, name="portfolio"),
    path("audits/<int:audit_id>/result/", views.audit_result_view, name="audit-result"),
    path("projects/<slug:slug>/trend/", views.project_trend_view, name="project-trend"),
    path("projects/<slug:slug>/compare/", views.compare_view, name="compare"),
]
