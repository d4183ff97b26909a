from django.contrib import admin

from integrations.mlflow.models import AcceptedFinding, AliasEvent, Finding, MlflowConnection, SyncRun, WebhookDelivery


@admin.register(MlflowConnection)
class MlflowConnectionAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "tracking_uri", "auth_type", "schedule", "next_sync_at")
    list_filter = ("schedule", "auth_type")
    search_fields = ("name", "tracking_uri", "project__name")
    # The encrypted secret is never shown or edited here; set it through the connection form or the API.
    exclude = ("secret_encrypted", "webhook_secret_encrypted")
    readonly_fields = ("created_by", "created_at", "updated_at")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "connection", "trigger", "state", "queued_at", "runs_read", "versions_read", "error_kind")
    list_filter = ("state", "trigger")
    readonly_fields = [f.name for f in SyncRun._meta.fields]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ("item_code", "project", "connection", "result", "suggested_status", "synced_at")
    list_filter = ("result", "item_code")
    readonly_fields = [f.name for f in Finding._meta.fields]


@admin.register(AcceptedFinding)
class AcceptedFindingAdmin(admin.ModelAdmin):
    list_display = ("item_code", "answer", "accepted_by", "accepted_at")
    readonly_fields = [f.name for f in AcceptedFinding._meta.fields]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("delivery_id", "connection", "event", "event_at", "received_at")
    list_filter = ("event",)
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]


@admin.register(AliasEvent)
class AliasEventAdmin(admin.ModelAdmin):
    list_display = ("connection", "model_name", "alias", "version", "at")
    readonly_fields = [f.name for f in AliasEvent._meta.fields]
