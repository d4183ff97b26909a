"""Input and output serializers of the MLflow evidence API.

Output serializers render what the views return (from model instances and selector results), so the
OpenAPI schema and the responses come from one definition and cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audits.api.fields import ScoreTextField
from evidence.sources import SOURCES
from integrations.mlflow import selectors, webhooks
from integrations.mlflow.models import AuthType, MlflowConnection, Schedule, SyncState, SyncTrigger, connection_limit
from integrations.mlflow.services import MAX_NAME_LENGTH, MAX_NAMES


class AuthInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=AuthType.values)
    username = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=connection_limit("username")
    )
    password = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, write_only=True, max_length=1000
    )
    token = serializers.CharField(required=False, allow_blank=True, allow_null=True, write_only=True, max_length=4000)


class ConnectionInput(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=connection_limit("name"))
    tracking_uri = serializers.CharField(max_length=connection_limit("tracking_uri"))
    ui_url = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=connection_limit("ui_url")
    )
    experiments = serializers.ListField(
        child=serializers.CharField(max_length=MAX_NAME_LENGTH), required=False, max_length=MAX_NAMES["experiments"]
    )
    registered_models = serializers.ListField(
        child=serializers.CharField(max_length=MAX_NAME_LENGTH),
        required=False,
        max_length=MAX_NAMES["registered_models"],
    )
    serving_alias = serializers.CharField(required=False, max_length=connection_limit("serving_alias"))
    auth = AuthInput(required=False)
    schedule = serializers.ChoiceField(choices=Schedule.values, required=False)
    verify_tls = serializers.BooleanField(required=False)
    thresholds = serializers.DictField(required=False)


class ConnectionAuthOutput(serializers.Serializer):
    type = serializers.CharField(source="auth_type")
    username = serializers.CharField()
    has_secret = serializers.BooleanField()


class WebhookOutput(serializers.Serializer):
    """Rendered from a connection; needs the request in the context for the absolute URL."""

    url = serializers.SerializerMethodField(help_text="Give this URL to MLflow's create_webhook.")
    has_secret = serializers.BooleanField(source="has_webhook_secret")
    events = serializers.SerializerMethodField()

    def get_url(self, connection: MlflowConnection) -> str:
        return selectors.webhook_url(request=self.context["request"], connection=connection)

    def get_events(self, connection: MlflowConnection) -> list[str]:
        return list(webhooks.EVENTS)


class WebhookSecretOutput(WebhookOutput):
    secret = serializers.SerializerMethodField(help_text="Shown only in this answer; mlaudit stores it encrypted.")

    def get_secret(self, connection: MlflowConnection) -> str:
        return str(self.context["secret"])


class ConnectionOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    project = serializers.CharField(source="project.slug")
    name = serializers.CharField()
    tracking_uri = serializers.CharField()
    ui_url = serializers.SerializerMethodField()
    experiments = serializers.ListField(child=serializers.CharField())
    registered_models = serializers.ListField(child=serializers.CharField())
    serving_alias = serializers.CharField()
    auth = ConnectionAuthOutput(source="*")
    schedule = serializers.CharField()
    verify_tls = serializers.BooleanField()
    thresholds = serializers.DictField()
    next_sync_at = serializers.DateTimeField(allow_null=True)
    webhook = WebhookOutput(source="*")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_ui_url(self, connection: MlflowConnection) -> str | None:
        return connection.ui_url or None


class TestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    kind = serializers.CharField()
    message = serializers.CharField()


class SyncOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    connection = serializers.IntegerField(source="connection_id")
    state = serializers.ChoiceField(choices=SyncState.values)
    trigger = serializers.ChoiceField(choices=SyncTrigger.values)
    requested_by = serializers.SerializerMethodField()
    queued_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    attempts = serializers.IntegerField()
    runs_read = serializers.IntegerField()
    versions_read = serializers.IntegerField()
    findings = serializers.IntegerField(source="findings_written")
    error_kind = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_requested_by(self, sync: Any) -> str | None:
        return sync.requested_by.get_username() if sync.requested_by else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error_kind(self, sync: Any) -> str | None:
        return sync.error_kind or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, sync: Any) -> str | None:
        return sync.error or None


class SyncAcceptedOutput(serializers.Serializer):
    sync = serializers.IntegerField(help_text="The first queued sync (one per connection).")
    syncs = SyncOutput(many=True)


class FindingAcceptInput(serializers.Serializer):
    confirm_lower = serializers.BooleanField(
        required=False, default=False, help_text="Required (true) when accepting lowers the current answer."
    )
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=SOURCES, required=False, default="mlflow", help_text="Which source's finding to accept."
    )


class FindingSourceQuery(serializers.Serializer):
    source = serializers.ChoiceField(choices=SOURCES, required=False, default="mlflow")  # type: ignore[assignment]


# "from" is a Python keyword, so those fields are declared through the class body's namespace.
# Both render from a ``selectors.AcceptPreview``.
class FinalChangeOutput(serializers.Serializer):
    locals()["from"] = ScoreTextField(source="final_before")
    to = ScoreTextField(source="final_after")


class SectionChangeOutput(serializers.Serializer):
    key = serializers.CharField(source="section_key")
    locals()["from"] = ScoreTextField(source="section_before")
    to = ScoreTextField(source="section_after")


class AcceptedOutput(serializers.Serializer):
    by = serializers.SerializerMethodField()
    at = serializers.DateTimeField(source="accepted.accepted_at")
    this_finding = serializers.BooleanField(
        source="accepted_this", help_text="The finding as it is now is the one accepted."
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_by(self, preview: selectors.AcceptPreview) -> str | None:
        by = preview.accepted.accepted_by if preview.accepted else None
        return by.get_username() if by else None


class AcceptPreviewOutput(serializers.Serializer):
    """Rendered from a ``selectors.AcceptPreview``."""

    item = serializers.CharField(source="item_code")
    locals()["from"] = serializers.CharField(
        source="current", allow_null=True, help_text="The current answer (null: none)."
    )
    to = serializers.CharField(source="suggested")
    changes_status = serializers.BooleanField()
    lowers = serializers.BooleanField(help_text="Accepting needs confirm_lower: true.")
    section = SectionChangeOutput(source="*")
    final = FinalChangeOutput(source="*")
    accepted = serializers.SerializerMethodField()

    @extend_schema_field(AcceptedOutput(allow_null=True))
    def get_accepted(self, preview: selectors.AcceptPreview) -> dict[str, Any] | None:
        return None if preview.accepted is None else dict(AcceptedOutput(preview).data)
