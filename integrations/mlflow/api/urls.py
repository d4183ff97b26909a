from django.urls import URLPattern, URLResolver, path

from integrations.mlflow.api import views as api

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "projects/<slug:slug>/mlflow-connections/", api.ProjectConnectionsApi.as_view(), name="api-mlflow-connections"
    ),
    path("mlflow-connections/<int:connection_id>/", api.ConnectionApi.as_view(), name="api-mlflow-connection"),
    path(
        "mlflow-connections/<int:connection_id>/test/",
        api.ConnectionTestApi.as_view(),
        name="api-mlflow-connection-test",
    ),
    path(
        "mlflow-connections/<int:connection_id>/webhook-secret/",
        api.WebhookSecretApi.as_view(),
        name="api-mlflow-webhook-secret",
    ),
    path(
        "audits/<int:audit_id>/evidence/<slug:item_code>/accept/",
        api.FindingAcceptApi.as_view(),
        name="api-evidence-accept",
    ),
    path("projects/<slug:slug>/evidence/sync/", api.ProjectSyncApi.as_view(), name="api-evidence-sync"),
    path("evidence-syncs/<int:sync_id>/", api.SyncApi.as_view(), name="api-evidence-sync-detail"),
]
