"""REST API for MLflow evidence: connections, syncs and findings. Thin views on the audits API's base view
over services and selectors; the serializers in ``serializers.py`` parse the input and render the output.
Authentication, permissions, throttling and the error envelope come from the project's DRF defaults."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from audits.api.exceptions import envelope
from audits.api.schema import SLUG_PATTERN
from audits.api.serializers import ErrorSerializer
from audits.api.views import ApiView
from audits.models import Audit
from audits.selectors import audit_for_user, project_for_user
from audits.types import actor_of
from evidence.sources import find
from integrations.mlflow import selectors, services, webhooks
from integrations.mlflow.api.serializers import (
    AcceptPreviewOutput,
    ConnectionInput,
    ConnectionOutput,
    FindingAcceptInput,
    FindingSourceQuery,
    SyncAcceptedOutput,
    SyncOutput,
    TestOutput,
    WebhookSecretOutput,
)
from integrations.mlflow.models import MlflowConnection, SyncRun

TAG = ["MLflow evidence"]


def _input(request: Request, *, partial: bool) -> dict[str, Any]:
    serializer = ConnectionInput(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ProjectConnectionsApi(ApiView):
    queryset = MlflowConnection.objects.none()

    @extend_schema(tags=TAG, responses=ConnectionOutput(many=True), summary="List a project's MLflow connections")
    def get(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        connections = selectors.connections_for_project(project=project).select_related("project")
        return Response(ConnectionOutput(connections, many=True, context={"request": request}).data)

    @extend_schema(
        tags=TAG, request=ConnectionInput, responses={201: ConnectionOutput}, summary="Connect an MLflow server"
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        connection = services.connection_create(
            actor=actor_of(request), project=project, **_input(request, partial=False)
        )
        return Response(ConnectionOutput(connection, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ConnectionApi(ApiView):
    queryset = MlflowConnection.objects.none()

    @extend_schema(tags=TAG, responses=ConnectionOutput, summary="One MLflow connection (secrets are never returned)")
    def get(self, request: Request, connection_id: int) -> Response:
        connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
        return Response(ConnectionOutput(connection, context={"request": request}).data)

    @extend_schema(tags=TAG, request=ConnectionInput, responses=ConnectionOutput, summary="Change an MLflow connection")
    def patch(self, request: Request, connection_id: int) -> Response:
        connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
        connection = services.connection_update(
            actor=actor_of(request), connection=connection, **_input(request, partial=True)
        )
        return Response(ConnectionOutput(connection, context={"request": request}).data)

    @extend_schema(tags=TAG, responses={204: None}, summary="Delete an MLflow connection and its synced evidence")
    def delete(self, request: Request, connection_id: int) -> Response:
        connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
        services.connection_delete(actor=actor_of(request), connection=connection)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionTestApi(ApiView):
    queryset = MlflowConnection.objects.none()

    @extend_schema(
        tags=TAG, request=None, responses=TestOutput, summary="Test an MLflow connection (answers in seconds)"
    )
    def post(self, request: Request, connection_id: int) -> Response:
        connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
        result = services.connection_test(actor=actor_of(request), connection=connection)
        return Response(TestOutput(result).data)


class WebhookSecretApi(ApiView):
    queryset = MlflowConnection.objects.none()

    @extend_schema(
        tags=TAG,
        request=None,
        responses={201: WebhookSecretOutput},
        summary="Make a new signing secret for the connection's registry webhook (the old one stops working)",
    )
    def post(self, request: Request, connection_id: int) -> Response:
        connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
        secret = webhooks.webhook_secret_rotate(actor=actor_of(request), connection=connection)
        body = WebhookSecretOutput(connection, context={"request": request, "secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


ITEM_CODE = OpenApiParameter(
    "item_code", str, OpenApiParameter.PATH, required=True, pattern=SLUG_PATTERN, description="e.g. data-1"
)


class FindingAcceptApi(ApiView):
    queryset = Audit.objects.none()

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
        return Response(AcceptPreviewOutput(preview).data)

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
            actor=actor_of(request),
            audit=audit,
            item_code=item_code,
            confirm_lower=serializer.validated_data["confirm_lower"],
            source=serializer.validated_data["source"],
        )
        _audit, preview = self._preview(request, audit_id, item_code, serializer.validated_data["source"])
        return Response(AcceptPreviewOutput(preview).data)


class ProjectSyncApi(ApiView):
    queryset = SyncRun.objects.none()

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
            syncs = services.project_sync_request(actor=actor_of(request), project=project)
        except services.TaskQueueUnreachable as exc:
            body = envelope(status.HTTP_503_SERVICE_UNAVAILABLE, "task_queue_unreachable", str(exc))
            return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        body = SyncAcceptedOutput({"sync": syncs[0].pk, "syncs": syncs}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class SyncApi(ApiView):
    queryset = SyncRun.objects.none()

    @extend_schema(tags=TAG, responses=SyncOutput, summary="State, counts and error of one sync")
    def get(self, request: Request, sync_id: int) -> Response:
        sync: SyncRun = selectors.sync_for_user(user=request.user, sync_id=sync_id)
        return Response(SyncOutput(sync).data)
