from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("audits.api.urls")),
    path("integrations/mlflow/", include("integrations.mlflow.urls")),
    path("", include("config.health_urls")),
    path("", include("audits.urls")),
]
