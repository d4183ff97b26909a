"""POST /api/v1/audits/{id}/exemptions/{item}/decision/: a manager approves or rejects an exemption."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from audits.api import schema as docs
from audits.api.serializers import AnswerOutput, ExemptionDecisionInput
from audits.api.views import ApiView, _valid
from audits.exemptions.rules import audit_score_day, exemption_state
from audits.exemptions.services import exemption_decide
from audits.models import Audit
from audits.selectors import audit_for_user
from audits.types import actor_of


class ExemptionDecisionView(ApiView):
    queryset = Audit.objects.none()
    serializer_class = ExemptionDecisionInput

    @extend_schema(
        operation_id="audits_exemptions_decide",
        examples=[
            docs.request({"decision": "approve", "comment": "Agreed; look again when we add regional models."}),
            docs.response(docs.EXEMPT_ANSWER_EXAMPLE),
        ],
        summary="Approve or reject an item's pending exemption (manager)",
        description=(
            "Managers of the team only; a manager may decide their own request only when they are the team's "
            "only manager. 409 `conflict` when the audit is submitted or the exemption is not pending. The "
            "decision is recorded in the answer's history."
        ),
        request=ExemptionDecisionInput,
        responses={200: AnswerOutput, **docs.error_responses(*docs.COMMON_ERRORS, 400, 403, 404, 409)},
    )
    def post(self, request: Request, audit_id: int, item: str) -> Response:
        audit = audit_for_user(user=request.user, audit_id=audit_id)
        data = _valid(ExemptionDecisionInput, request.data)
        answer = exemption_decide(
            actor=actor_of(request),
            audit=audit,
            item_code=item,
            decision=data["decision"],
            comment=data.get("comment", ""),
        )
        answer.exemption_state_shown = exemption_state(  # type: ignore[attr-defined]
            answer.status, answer.exemption_state, answer.expires_on, audit_score_day(audit)
        )
        return Response(AnswerOutput(answer).data)
