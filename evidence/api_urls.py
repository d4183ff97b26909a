from django.urls import URLPattern, URLResolver, path

from evidence import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("projects/<slug:slug>/evidence/", api.ProjectEvidenceApi.as_view(), name="api-evidence"),
]
