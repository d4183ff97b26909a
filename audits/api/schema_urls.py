"""/api/schema/ (OpenAPI 3) and /api/docs/ (Swagger UI, served from the app's own static files)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "schema/",
        login_not_required(SpectacularAPIView.as_view(permission_classes=[AllowAny])),
        name="api-schema",
    ),
    path(
        "docs/",
        login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[AllowAny])),
        name="api-docs",
    ),
]
