from django.urls import URLPattern, URLResolver, path

from integrations.mlflow import views

app_name = "mlflow"

urlpatterns: list[URLPattern | URLResolver] = [
    path("projects/<slug:slug>/", views.project_evidence, name="project-evidence"),
    path("projects/<slug:slug>/connections/new/", views.connection_create, name="connection-create"),
    path("projects/<slug:slug>/sync/", views.sync_trigger, name="sync-trigger"),
    path("projects/<slug:slug>/syncs/", views.sync_history, name="sync-history"),
    path("projects/<slug:slug>/syncs.json", views.sync_history_json, name="sync-history-json"),
    path("connections/<int:connection_id>/edit/", views.connection_edit, name="connection-edit"),
    path("connections/<int:connection_id>/delete/", views.connection_delete, name="connection-delete"),
    path("connections/<int:connection_id>/test/", views.connection_test, name="connection-test"),
    path(
        "connections/<int:connection_id>/webhook-secret/",
        views.webhook_secret_rotate,
        name="connection-webhook-secret",
    ),
    path("webhooks/<str:token>/", views.webhook_receive, name="webhook"),
    path("audits/<int:audit_id>/findings/<slug:item_code>/accept/", views.finding_accept, name="finding-accept"),
]
