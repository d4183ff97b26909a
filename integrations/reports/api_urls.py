from django.urls import URLPattern, URLResolver, path

from integrations.reports import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("projects/<slug:slug>/reports/", api.ProjectReportsApi.as_view(), name="api-project-reports"),
    path("projects/<slug:slug>/report-mappings/", api.ProjectMappingsApi.as_view(), name="api-report-mappings"),
    path(
        "projects/<slug:slug>/report-mappings/<int:mapping_id>/",
        api.ProjectMappingApi.as_view(),
        name="api-report-mapping",
    ),
    path("reports/<int:report_id>/", api.ReportApi.as_view(), name="api-report"),
    path("reports/<int:report_id>/file/", api.ReportFileApi.as_view(), name="api-report-file"),
]
