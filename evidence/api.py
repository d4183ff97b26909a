"""GET /api/v1/projects/{slug}/evidence/: the findings of every evidence source, each with its source."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from audits.api import schema as docs
from audits.api.views import ApiView
from audits.models import Project
from audits.selectors import project_for_user
from evidence.levels import AUTOMATED, MANUAL
from evidence.sources import SOURCES, FindingResult, project_findings


class EvidenceFindingOutput(serializers.Serializer):
    item = serializers.CharField()
    source = serializers.ChoiceField(choices=SOURCES)  # type: ignore[assignment]
    result = serializers.ChoiceField(choices=FindingResult.values)
    suggested_status = serializers.ChoiceField(choices=[AUTOMATED, MANUAL], allow_null=True)
    reason = serializers.CharField()
    links = serializers.ListField(child=serializers.CharField())
    observed_at = serializers.DateTimeField()
    facts = serializers.DictField()
    connection = serializers.IntegerField(required=False, help_text="MLflow findings: the connection.")
    sync = serializers.IntegerField(required=False, help_text="MLflow findings: the sync that wrote it.")
    synced_at = serializers.DateTimeField(required=False, help_text="MLflow findings: when that sync ran.")
    report = serializers.IntegerField(required=False, help_text="CI report findings: the latest report.")


class ProjectEvidenceApi(ApiView):
    queryset = Project.objects.none()

    @extend_schema(
        tags=["Evidence"],
        responses={200: EvidenceFindingOutput(many=True), **docs.error_responses(*docs.COMMON_ERRORS, 404)},
        summary="The latest finding per rubric item and source (MLflow, JUnit, Great Expectations, …)",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        return Response(EvidenceFindingOutput([f.as_json() for f in project_findings(project)], many=True).data)
