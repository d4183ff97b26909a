from django.urls import URLPattern, URLResolver, path

from integrations.reports import views

app_name = "reports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("coverage/", views.coverage_page, name="coverage"),
    path("projects/<slug:slug>/", views.project_reports, name="project"),
    path("projects/<slug:slug>/mappings/", views.mapping_add, name="mapping-add"),
    path("projects/<slug:slug>/mappings/<int:mapping_id>/delete/", views.mapping_delete, name="mapping-delete"),
    path("projects/<slug:slug>/push-tokens/", views.push_token_create, name="push-token-create"),
]
