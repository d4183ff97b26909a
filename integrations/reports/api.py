"""REST API for CI reports: push a report, list and read them, and the project's mapping rules.

Thin views over services and selectors, on the audits API's base view and error envelope.
"""

from __future__ import annotations

import gzip

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from audits.api import schema as docs
from audits.api.views import ApiView, _valid
from audits.selectors import project_for_user, visible_projects
from audits.types import actor_of
from integrations.reports import selectors, services
from integrations.reports.models import Report, ReportMapping
from integrations.reports.serializers import (
    FindingOutput,
    MappingInput,
    MappingOutput,
    ReportDetailOutput,
    ReportInput,
    ReportReceivedOutput,
    ReportSummaryOutput,
)

TAG = ["CI reports"]
E = docs.error_responses


def received_json(report: Report, created: bool) -> dict:
    item_findings = [
        f.as_json() for f in selectors.evidence_findings(report.project) if f.item in _mapped_items(report)
    ]
    body = {
        "id": report.pk,
        "kind": report.kind,
        "run_id": report.run_id,
        "created": created,
        "checks": report.check_count,
        "mapped": report.check_count - report.unmapped_count,
        "unmapped": report.unmapped,
        "unmapped_count": report.unmapped_count,
        "findings": item_findings,
    }
    return dict(ReportReceivedOutput(body).data)


def _mapped_items(report: Report) -> set[str]:
    return {code for check in report.checks for code in check["items"]}


class ProjectReportsApi(ApiView):
    queryset = Report.objects.none()
    serializer_class = ReportInput
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=TAG,
        responses={200: ReportSummaryOutput(many=True), **E(*docs.COMMON_ERRORS, 404)},
        summary="The project's reports, newest first",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        page = self.paginate_queryset(selectors.project_reports(project=project))
        return self.get_paginated_response(ReportSummaryOutput(page, many=True).data)

    @extend_schema(
        tags=TAG,
        request={"multipart/form-data": ReportInput},
        responses={201: ReportReceivedOutput, 200: ReportReceivedOutput, **E(*docs.COMMON_ERRORS, 400, 403, 404, 413)},
        summary="Push a CI report (JUnit, Great Expectations, Evidently, Prometheus rules)",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        data = _valid(ReportInput, request.data)
        upload = data["file"]
        if upload.size > services.report_size_limit():
            raise services.ReportTooLarge(services.too_large_message(upload.size))
        report, created = services.report_receive(
            actor=actor_of(request),
            project=project,
            kind=data["kind"],
            data=upload.read(),
            file_name=upload.name or "",
            run_id=data.get("run_id", ""),
            run_url=data.get("run_url", ""),
            commit=data.get("commit", ""),
            source=data.get("source", ""),
        )
        return Response(
            received_json(report, created), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


def _report_for_user(request: Request, report_id: int) -> Report:
    if report_id > docs.MAX_DATABASE_ID:
        raise Http404(_("No such report."))
    report = Report.objects.filter(pk=report_id, project__in=visible_projects(user=request.user)).first()
    if report is None:
        raise Http404(_("No such report."))
    return report


class ReportApi(ApiView):
    queryset = Report.objects.none()

    @extend_schema(
        tags=TAG,
        responses={200: ReportDetailOutput, **E(*docs.COMMON_ERRORS, 404)},
        summary="One report with its parsed checks",
    )
    def get(self, request: Request, report_id: int) -> Response:
        report = _report_for_user(request, report_id)
        report.parsed_checks = selectors.all_checks(report)  # type: ignore[attr-defined]
        return Response(ReportDetailOutput(report).data)


class ReportFileApi(ApiView):
    queryset = Report.objects.none()

    @extend_schema(
        tags=TAG,
        responses={(200, "application/octet-stream"): bytes, **E(*docs.COMMON_ERRORS, 404)},
        summary="The report file as it was received",
    )
    def get(self, request: Request, report_id: int) -> HttpResponse:
        report = _report_for_user(request, report_id)
        response = HttpResponse(gzip.decompress(bytes(report.raw)), content_type="application/octet-stream")
        name = (report.file_name or f"report-{report.pk}").replace('"', "")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ProjectMappingsApi(ApiView):
    queryset = ReportMapping.objects.none()
    serializer_class = MappingInput

    @extend_schema(
        tags=TAG,
        responses={200: MappingOutput(many=True), **E(*docs.COMMON_ERRORS, 404)},
        summary="The project's rules mapping check names to rubric items",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        return Response(MappingOutput(selectors.project_mappings(project=project), many=True).data)

    @extend_schema(
        tags=TAG,
        request=MappingInput,
        responses={201: MappingOutput, **E(*docs.COMMON_ERRORS, 400, 403, 404)},
        summary="Add a mapping rule (manager)",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        data = _valid(MappingInput, request.data)
        rule = services.mapping_add(
            actor=actor_of(request), project=project, pattern=data["pattern"], item_code=data["item"], kind=data["kind"]
        )
        return Response(MappingOutput(rule).data, status=status.HTTP_201_CREATED)


class ProjectMappingApi(ApiView):
    queryset = ReportMapping.objects.none()

    @extend_schema(
        tags=TAG, responses={204: None, **E(*docs.COMMON_ERRORS, 403, 404)}, summary="Delete a mapping rule (manager)"
    )
    def delete(self, request: Request, slug: str, mapping_id: int) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        services.mapping_delete(actor=actor_of(request), project=project, mapping_id=mapping_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


__all__ = ["FindingOutput"]
