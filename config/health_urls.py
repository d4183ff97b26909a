"""The probe URLs. HealthProbeMiddleware normally answers them first; these routes keep
them reachable (and reversible) when that middleware is not installed."""

from django.urls import URLPattern, URLResolver, path

from config.health import healthz, readyz

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
