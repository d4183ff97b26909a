"""REST API for MLflow evidence: connections, syncs and findings. Thin DRF views over services and selectors;
authentication, permissions, throttling and the error envelope come from the project's DRF defaults."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audits.api.exceptions import envelope
from audits.api.schema import SLUG_PATTERN
from audits.api.serializers import ErrorSerializer
from audits.selectors import audit_for_user, project_for_user
from evidence.sources import SOURCES, find
from integrations.mlflow import selectors, services, webhooks
from integrations.mlflow.models import AuthType, MlflowConnection, Schedule, SyncRun, SyncTrigger

TAG = ["MLflow evidence"]


class AuthInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=AuthType.values)
    username = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=200)
    password = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, write_only=True, max_length=1000
    )
    token = serializers.CharField(required=False, allow_blank=True, allow_null=True, write_only=True, max_length=4000)


class ConnectionInput(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    tracking_uri = serializers.CharField(max_length=500)
    ui_url = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=500)
    experiments = serializers.ListField(child=serializers.CharField(max_length=300), required=False, max_length=50)
    registered_models = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, max_length=20
    )
    serving_alias = serializers.CharField(required=False, max_length=100)
    auth = AuthInput(required=False)
    schedule = serializers.ChoiceField(choices=Schedule.values, required=False)
    verify_tls = serializers.BooleanField(required=False)
    thresholds = serializers.DictField(required=False)


class ConnectionAuthOutput(serializers.Serializer):
    type = serializers.CharField()
    username = serializers.CharField()
    has_secret = serializers.BooleanField()


class WebhookOutput(serializers.Serializer):
    url = serializers.CharField(help_text="Give this URL to MLflow's create_webhook.")
    has_secret = serializers.BooleanField()
    events = serializers.ListField(child=serializers.CharField())


class WebhookSecretOutput(WebhookOutput):
    secret = serializers.CharField(help_text="Shown only in this answer; mlaudit stores it encrypted.")


class ConnectionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.CharField()
    name = serializers.CharField()
    tracking_uri = serializers.CharField()
    ui_url = serializers.CharField(allow_null=True)
    experiments = serializers.ListField(child=serializers.CharField())
    registered_models = serializers.ListField(child=serializers.CharField())
    serving_alias = serializers.CharField()
    auth = ConnectionAuthOutput()
    schedule = serializers.CharField()
    verify_tls = serializers.BooleanField()
    thresholds = serializers.DictField()
    next_sync_at = serializers.DateTimeField(allow_null=True)
    webhook = WebhookOutput()


class TestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    kind = serializers.CharField()
    message = serializers.CharField()


class SyncOutput(serializers.Serializer):
    id = serializers.IntegerField()
    connection = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["queued", "running", "succeeded", "failed"])
    trigger = serializers.ChoiceField(choices=SyncTrigger.values)
    requested_by = serializers.CharField(allow_null=True)
    queued_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    attempts = serializers.IntegerField()
    runs_read = serializers.IntegerField()
    versions_read = serializers.IntegerField()
    findings = serializers.IntegerField()
    error_kind = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class SyncAcceptedOutput(serializers.Serializer):
    sync = serializers.IntegerField(help_text="The first queued sync (one per connection).")
    syncs = SyncOutput(many=True)


def webhook_json(request: Request, connection: MlflowConnection) -> dict[str, Any]:
    return {
        "url": selectors.webhook_url(request=request, connection=connection),
        "has_secret": connection.has_webhook_secret,
        "events": list(webhooks.EVENTS),
    }


def connection_json(connection: MlflowConnection, request: Request) -> dict[str, Any]:
    return {
        "id": connection.pk,
        "project": connection.project.slug,
        "name": connection.name,
        "tracking_uri": connection.tracking_uri,
        "ui_url": connection.ui_url or None,
        "experiments": list(connection.experiments),
        "registered_models": list(connection.registered_models),
        "serving_alias": connection.serving_alias,
        "auth": {"type": connection.auth_type, "username": connection.username, "has_secret": connection.has_secret},
        "schedule": connection.schedule,
        "verify_tls": connection.verify_tls,
        "thresholds": connection.thresholds,
        "next_sync_at": connection.next_sync_at.isoformat() if connection.next_sync_at else None,
        "webhook": webhook_json(request, connection),
    }


def _input(request: Request, *, partial: bool) -> dict[str, Any]:
    serializer = ConnectionInput(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ProjectConnectionsApi(APIView):
    @extend_schema(tags=TAG, responses=ConnectionOutput(many=True), summary="List a project's MLflow connections")
    def get(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        connections = selectors.connections_for_project(project=project).select_related("project")
        return Response([connection_json(c, request) for c in connections])

    @extend_schema(
        tags=TAG, request=ConnectionInput, responses={201: ConnectionOutput}, summary="Connect an MLflow server"
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        connection = services.connection_create(actor=request.user, project=project, **_input(request, partial=False))
        return Response(connection_json(connection, request), status=status.HTTP_201_CREATED)


class ConnectionApi(APIView):
    @extend_schema(tags=TAG, responses=ConnectionOutput, summary="One MLflow connection (secrets are never returned)")
    def get(self, request: Request, connection_id: int) -> Response:
        connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
        return Response(connection_json(connection, request))

    @extend_schema(tags=TAG, request=ConnectionInput, responses=ConnectionOutput, summary="Change an MLflow connection")
    def patch(self, request: Request, connection_id: int) -> Response:
        connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
        connection = services.connection_update(
            actor=request.user, connection=connection, **_input(request, partial=True)
        )
        return Response(connection_json(connection, request))

    @extend_schema(tags=TAG, responses={204: None}, summary="Delete an MLflow connection and its synced evidence")
    def delete(self, request: Request, connection_id: int) -> Response:
        connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
        services.connection_delete(actor=request.user, connection=connection)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionTestApi(APIView):
    @extend_schema(
        tags=TAG, request=None, responses=TestOutput, summary="Test an MLflow connection (answers in seconds)"
    )
    def post(self, request: Request, connection_id: int) -> Response:
        connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
        result = services.connection_test(actor=request.user, connection=connection)
        return Response({"ok": result.ok, "kind": result.kind, "message": result.message})


class WebhookSecretApi(APIView):
    @extend_schema(
        tags=TAG,
        request=None,
        responses={201: WebhookSecretOutput},
        summary="Make a new signing secret for the connection's registry webhook (the old one stops working)",
    )
    def post(self, request: Request, connection_id: int) -> Response:
        connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
        secret = webhooks.webhook_secret_rotate(actor=request.user, connection=connection)
        body = {**webhook_json(request, connection), "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class FindingAcceptInput(serializers.Serializer):
    confirm_lower = serializers.BooleanField(
        required=False, default=False, help_text="Required (true) when accepting lowers the current answer."
    )
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=SOURCES, required=False, default="mlflow", help_text="Which source's finding to accept."
    )


class FindingSourceQuery(serializers.Serializer):
    source = serializers.ChoiceField(choices=SOURCES, required=False, default="mlflow")  # type: ignore[assignment]


# "from" is a Python keyword, so these serializers are built from a dict of their fields.
ScoreChangeOutput: Any = type(
    "ScoreChangeOutput",
    (serializers.Serializer,),
    {"key": serializers.CharField(required=False), "from": serializers.CharField(), "to": serializers.CharField()},
)


class AcceptedOutput(serializers.Serializer):
    by = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField()
    this_finding = serializers.BooleanField(help_text="The finding as it is now is the one accepted.")


AcceptPreviewOutput: Any = type(
    "AcceptPreviewOutput",
    (serializers.Serializer,),
    {
        "item": serializers.CharField(),
        "from": serializers.CharField(allow_null=True, help_text="The current answer (null: none)."),
        "to": serializers.CharField(),
        "changes_status": serializers.BooleanField(),
        "lowers": serializers.BooleanField(help_text="Accepting needs confirm_lower: true."),
        "section": ScoreChangeOutput(),
        "final": ScoreChangeOutput(),
        "accepted": AcceptedOutput(allow_null=True),
    },
)


ITEM_CODE = OpenApiParameter(
    "item_code", str, OpenApiParameter.PATH, required=True, pattern=SLUG_PATTERN, description="e.g. data-1"
)


class FindingAcceptApi(APIView):
    def _preview(self, request: Request, audit_id: int, item_code: str, source: str) -> tuple[Any, Any]:
        audit = audit_for_user(user=request.user, audit_id=audit_id)
        finding = (
            selectors.findings_for_audit(audit=audit).get(item_code)
            if source == "mlflow"
            else find(audit.project, item_code, source)
        )
        if finding is None:
            raise Http404(_("There is no finding of this source for this item yet."))
        return audit, selectors.accept_preview(audit=audit, finding=finding)

    @extend_schema(
        tags=TAG,
        parameters=[ITEM_CODE, FindingSourceQuery],
        responses=AcceptPreviewOutput,
        summary="What accepting an item's finding (MLflow by default, or ?source=junit…) would change",
    )
    def get(self, request: Request, audit_id: int, item_code: str) -> Response:
        query = FindingSourceQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        _audit, preview = self._preview(request, audit_id, item_code, query.validated_data["source"])
        if preview is None:
            raise DjangoValidationError(_("Only a passing finding can be accepted."))
        return Response(selectors.accept_preview_json(preview))

    @extend_schema(
        tags=TAG,
        parameters=[ITEM_CODE],
        request=FindingAcceptInput,
        responses=AcceptPreviewOutput,
        summary="Accept an item's finding into the answer (lowering it needs confirm_lower: true)",
    )
    def post(self, request: Request, audit_id: int, item_code: str) -> Response:
        audit = audit_for_user(user=request.user, audit_id=audit_id)
        serializer = FindingAcceptInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.finding_accept(
            actor=request.user,
            audit=audit,
            item_code=item_code,
            confirm_lower=serializer.validated_data["confirm_lower"],
            source=serializer.validated_data["source"],
        )
        _audit, preview = self._preview(request, audit_id, item_code, serializer.validated_data["source"])
        return Response(selectors.accept_preview_json(preview))


class ProjectSyncApi(APIView):
    @extend_schema(
        tags=TAG,
        request=None,
        responses={
            202: SyncAcceptedOutput,
            503: OpenApiResponse(
                ErrorSerializer, description="The task queue is unreachable; the sync was recorded failed."
            ),
        },
        summary="Queue a sync of every connection",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        try:
            syncs = services.project_sync_request(actor=request.user, project=project)
        except services.TaskQueueUnreachable as exc:
            body = envelope(status.HTTP_503_SERVICE_UNAVAILABLE, "task_queue_unreachable", str(exc))
            return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        body = {"sync": syncs[0].pk, "syncs": [selectors.sync_state_json(s) for s in syncs]}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class SyncApi(APIView):
    @extend_schema(tags=TAG, responses=SyncOutput, summary="State, counts and error of one sync")
    def get(self, request: Request, sync_id: int) -> Response:
        sync: SyncRun = selectors.sync_for_user(user=request.user, sync_id=sync_id)
        return Response(selectors.sync_state_json(sync))
