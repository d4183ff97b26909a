"""GET /api/v1/audits/{id}/next-steps/ and PUT, DELETE /api/v1/audits/{id}/items/{item}/owner/.

Views of the path to the next band (its input and output serializers are audits.planning.serializers, shared
with the export) and of owners per item, on the API's shared base (audits.api.views.ApiView) and error envelope.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from audits.api import schema as docs
from audits.api.parsers import JSONParser
from audits.api.views import ApiView
from audits.assignments.selectors import item_owners
from audits.assignments.services import assignee_for, item_assign, item_unassign
from audits.models import Audit
from audits.planning.selectors import audit_next_steps, parse_target
from audits.planning.serializers import NextStepsOutput, NextStepsQueryInput, next_steps_data
from audits.selectors import audit_for_user
from audits.types import actor_of
from rubric.selectors import item_ids

E = docs.error_responses
MAX_USERNAME_LENGTH = 150  # django.contrib.auth's username limit


NEXT_STEPS_EXAMPLE = {
    "current": "1.5",
    "target": "2",
    "target_band": None,
    "reachable": True,
    "changes": [
        {"item": "model-4", "section": "model", "from": "not_done", "to": "manual", "gain": "0.5", "owner": "ana"},
        {"item": "monitoring-4", "section": "monitoring", "from": "not_done", "to": "manual", "gain": "0.5",
         "owner": None},
    ],
    "final_after": "2",
}  # fmt: skip


class AuditNextStepsView(ApiView):
    queryset = Audit.objects.none()
    serializer_class = NextStepsOutput

    @extend_schema(
        operation_id="audits_next_steps",
        summary="The cheapest answer changes that reach a target band or score",
        description=(
            "Only the sections below the target need work (the final score is the lowest section). The "
            "cheapest changes first (not done → manual costs 1, manual → automated 2), then the fewest, then "
            "items an evidence source supports. A band is reached above its lower bound, a score at it. A "
            'target no answers can reach gives `"reachable": false` and no changes.'
        ),
        parameters=[OpenApiParameter("target", str, description="Band label or score; default the next band.")],
        examples=[docs.response(NEXT_STEPS_EXAMPLE)],
        responses={200: NextStepsOutput, **E(*docs.COMMON_ERRORS, 400, 404)},
    )
    def get(self, request: Request, audit_id: int) -> Response:
        audit = audit_for_user(user=request.user, audit_id=audit_id)
        query = NextStepsQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        target = parse_target(audit, query.validated_data.get("target"))
        return Response(next_steps_data(audit_next_steps(audit=audit, target=target)))


class OwnerInput(serializers.Serializer):
    assignee = serializers.CharField(max_length=MAX_USERNAME_LENGTH, help_text="Username of an editor or manager.")


class OwnerOutput(serializers.Serializer):
    item = serializers.CharField()
    owner = serializers.CharField(allow_null=True)


def _owner_data(audit: Audit, item: str) -> dict[str, Any]:
    owner = item_owners(audit=audit).get(item)
    return dict(OwnerOutput({"item": item, "owner": owner.username if owner else None}).data)


class ItemOwnerView(ApiView):
    queryset = Audit.objects.none()
    serializer_class = OwnerInput
    parser_classes = [JSONParser]

    def _audit(self, request: Request, audit_id: int, item: str) -> Audit:
        audit = audit_for_user(user=request.user, audit_id=audit_id)
        if item not in item_ids(audit.rubric):
            raise Http404(_("No such item."))
        return audit

    @extend_schema(
        operation_id="audits_item_owner_retrieve",
        summary="The owner of one item",
        examples=[docs.response({"item": "monitoring-4", "owner": "ana"})],
        responses={200: OwnerOutput, **E(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request, audit_id: int, item: str) -> Response:
        return Response(_owner_data(self._audit(request, audit_id, item), item))

    @extend_schema(
        operation_id="audits_item_owner_update",
        summary="Assign an item of a draft to an editor or manager of the team (editor)",
        request=OwnerInput,
        examples=[docs.request({"assignee": "ana"}), docs.response({"item": "monitoring-4", "owner": "ana"})],
        responses={200: OwnerOutput, **E(*docs.COMMON_ERRORS, 400, 403, 404, 409)},
    )
    def put(self, request: Request, audit_id: int, item: str) -> Response:
        audit = self._audit(request, audit_id, item)
        body = OwnerInput(data=request.data)
        body.is_valid(raise_exception=True)
        assignee = assignee_for(audit=audit, username=body.validated_data["assignee"])
        item_assign(actor=actor_of(request), audit=audit, item_code=item, assignee=assignee)
        return Response(_owner_data(audit, item))

    @extend_schema(
        operation_id="audits_item_owner_destroy",
        summary="Remove the owner of an item of a draft (editor)",
        examples=[docs.response(None, status=204)],
        responses={204: None, **E(*docs.COMMON_ERRORS, 403, 404, 409)},
    )
    def delete(self, request: Request, audit_id: int, item: str) -> Response:
        item_unassign(actor=actor_of(request), audit=self._audit(request, audit_id, item), item_code=item)
        return Response(status=status.HTTP_204_NO_CONTENT)
