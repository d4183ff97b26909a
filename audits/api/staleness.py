"""Staleness in the API: the live score of a project, and the stale flag of each answer of an audit."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from audits.api import schema as docs
from audits.api.serializers import BandOutput, SectionScoreOutput
from audits.api.views import ApiView
from audits.models import Answer, Audit, Project
from audits.selectors import project_for_user
from audits.staleness.selectors import live_score, stale_answers

LIVE_SCORE_EXAMPLE = {
    "project": "search-ranking",
    "audit": 12,
    "audited_final": 2.5,
    "final": 2.0,
    "band": docs.SCORE_EXAMPLE["band"],
    "dropped": True,
    "sections": docs.SCORE_EXAMPLE["sections"],
    "stale": [
        {
            "item": "infra-4",
            "title": "Model quality is validated before serving",
            "status": "manual",
            "supported": "not_done",
            "reason": "answered for champion v12; champion is now v13",
            "confirmed_at": "2026-03-02T16:05:00Z",
        }
    ],
}


def mark_stale(audit: Audit, answers: list[Answer]) -> list[Answer]:
    """Set `stale` and `stale_reason` on each answer (AnswerOutput renders them), in fixed queries."""
    stale = stale_answers(audit=audit, statuses={answer.item.code: answer.status for answer in answers})
    for answer in answers:
        found = stale.get(answer.item.code)
        answer.stale = found is not None  # type: ignore[attr-defined]
        answer.stale_reason = found.reason if found else None  # type: ignore[attr-defined]
    return answers


class StaleItemOutput(serializers.Serializer):
    item = serializers.CharField(source="code")
    title = serializers.CharField()
    status = serializers.CharField(help_text="The answer as audited.")
    supported = serializers.CharField(help_text="What the current evidence still supports; counted in the live score.")
    reason = serializers.CharField(help_text="Why the answer no longer holds, in the request's language.")
    confirmed_at = serializers.DateTimeField(
        source="staleness.confirmed_at", allow_null=True, help_text="The last time its source confirmed it."
    )


class LiveScoreOutput(serializers.Serializer):
    project = serializers.CharField(source="project.slug")
    audit = serializers.IntegerField(source="audit.pk", help_text="The last submitted audit.")
    audited_final = serializers.FloatField(help_text="Its final score, frozen at submit.")
    final = serializers.FloatField(help_text="The live final score: stale answers replaced by what evidence supports.")
    band = BandOutput(source="live.band", allow_null=True)
    dropped = serializers.BooleanField(help_text="The live score is below the audited one.")
    sections = SectionScoreOutput(many=True, source="live.sections")
    stale = StaleItemOutput(many=True)


class ProjectLiveScoreView(ApiView):
    queryset = Project.objects.none()
    serializer_class = LiveScoreOutput
    pagination_class = None

    @extend_schema(
        operation_id="projects_live_score",
        examples=[docs.response(LIVE_SCORE_EXAMPLE)],
        summary="The live score: the last submitted audit with its stale answers replaced by current evidence",
        description=(
            "An answer accepted from evidence is stale when the serving model version it was answered for "
            "changed, when its source has not confirmed it within the project's freshness window, or when the "
            "latest evidence fails. 404 before the project's first submitted audit."
        ),
        responses={200: LiveScoreOutput, **docs.error_responses(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        score = live_score(project_for_user(user=request.user, slug=slug))
        if score is None:
            raise Http404(_("This project has no submitted audit yet."))
        return Response(LiveScoreOutput(score).data)
