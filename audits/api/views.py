"""REST API views: thin wrappers that parse input, call audits.services / selectors and shape output.

Errors are not handled here: audits.api.exceptions turns service exceptions into the JSON envelope.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from audits.api import schema as docs
from audits.api.exports import audit_export_data, render_csv, render_markdown
from audits.api.filters import AuditFilter, ProjectFilter
from audits.api.negotiation import IgnoreClientContentNegotiation
from audits.api.parsers import JSONParser
from audits.api.serializers import (
    AnswerInput,
    AnswerOutput,
    AuditDetailOutput,
    AuditStartInput,
    AuditSummaryOutput,
    ExportOutput,
    ExportQueryInput,
    PortfolioRowOutput,
    ProjectCreateInput,
    ProjectOutput,
    ProjectUpdateInput,
    RubricDetailOutput,
    RubricQueryInput,
    RubricSummaryOutput,
    ScoreOutput,
    TrendPointOutput,
)
from audits.campaigns.services import project_tags_set
from audits.exemptions.rules import audit_score_day, counted_statuses, exemption_state, pending_count
from audits.models import Audit, Project
from audits.selectors import (
    audit_answers,
    audit_for_user,
    audit_score,
    portfolio_queryset,
    portfolio_rows,
    project_audits,
    project_for_user,
    project_trend,
    project_with_latest_score,
    visible_projects,
    visible_teams,
    with_latest_scores,
)
from audits.services import (
    answers_bulk_upsert,
    audit_delete,
    audit_start,
    audit_submit,
    project_create,
    project_delete,
    project_update,
)
from audits.types import actor_of
from rubric.models import Rubric
from rubric.selectors import BUILTIN_SLUG, rubric_by_slug, rubric_versions, rubric_with_structure, rubrics_with_bands

MAX_BULK_ANSWERS = 1000
E = docs.error_responses


@method_decorator(login_not_required, name="dispatch")
class ApiView(GenericAPIView):
    # Base of every API view. The API authenticates by itself, so the pages' sign-in redirect is off.
    # serializer_class only feeds the browsable API's forms; each method names its own input and output.

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # An id beyond the database's integer range cannot exist (and would make the query fail).
        if kwargs.get("audit_id", 0) > docs.MAX_DATABASE_ID:
            raise Http404(_("No such audit."))


def audit_detail_data(audit: Audit) -> dict[str, Any]:
    from audits.api.staleness import mark_stale  # it builds on this module's base view

    answers = mark_stale(audit, audit_answers(audit=audit))
    day = audit_score_day(audit)
    for answer in answers:  # the state people see, "expired" included (AnswerOutput.exemption_state)
        answer.exemption_state_shown = exemption_state(  # type: ignore[attr-defined]
            answer.status, answer.exemption_state, answer.expires_on, day
        )
    return {
        **AuditSummaryOutput(audit).data,
        "answers": AnswerOutput(answers, many=True).data,
        "score": score_data(audit, answers),
    }


def score_data(audit: Audit, answers: list[Any] | None = None) -> dict[str, Any]:
    if answers is None:
        answers = audit_answers(audit=audit)
    day = audit_score_day(audit)
    result = audit_score(audit=audit, status_map=counted_statuses(answers, day))
    payload = {
        "audit": audit.pk,
        "status": audit.status,
        "final": result.final,
        "final_strict": result.final_strict,
        "exempted": list(result.exempted),
        "pending_exemptions": pending_count(answers, day),
        "band": result.band,
        "sections": result.sections,
        "weakest": list(result.weakest),
        "answered": result.answered,
        "total": result.total,
        "rubric": audit.rubric,
    }
    return dict(ScoreOutput(payload).data)


# Rubrics ------------------------------------------------------------------------


class RubricListView(ApiView):
    queryset = Rubric.objects.none()
    serializer_class = RubricSummaryOutput

    @extend_schema(
        operation_id="rubrics_list",
        examples=[docs.response(docs.paginated(docs.RUBRIC_SUMMARY_EXAMPLE))],
        summary="List rubric versions",
        responses={200: RubricSummaryOutput(many=True), **E(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(rubrics_with_bands())
        return self.get_paginated_response(RubricSummaryOutput(page, many=True).data)


class RubricDetailView(ApiView):
    queryset = Rubric.objects.none()
    serializer_class = RubricDetailOutput

    @extend_schema(
        operation_id="rubrics_retrieve",
        examples=[docs.response(docs.RUBRIC_DETAIL_EXAMPLE)],
        summary="A rubric with its sections and items",
        parameters=[OpenApiParameter("version", str, description="A loaded version; the newest when left out.")],
        responses={200: RubricDetailOutput, **E(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        version = _valid(RubricQueryInput, request.query_params).get("version")
        rubric = rubric_by_slug(slug, version or None)
        if rubric is None:
            raise Http404(_("No such rubric."))
        full = rubric_with_structure(rubric.pk)
        full.versions = rubric_versions(slug)  # type: ignore[attr-defined]
        return Response(RubricDetailOutput(full).data)


# Projects -----------------------------------------------------------------------


class ProjectListView(ApiView):
    queryset = Project.objects.none()
    serializer_class = ProjectCreateInput
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProjectFilter

    def get_queryset(self) -> Any:
        return (
            with_latest_scores(visible_projects(user=self.request.user)).prefetch_related("tags").order_by("name", "pk")
        )

    @extend_schema(
        operation_id="projects_list",
        examples=[docs.response(docs.paginated(docs.PROJECT_EXAMPLE))],
        summary="List the projects you can see",
        responses={200: ProjectOutput(many=True), **E(*docs.COMMON_ERRORS, 400, 404)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ProjectOutput(page, many=True).data)

    @extend_schema(
        operation_id="projects_create",
        examples=[
            docs.request({"name": "Search ranking", "team": "ranking", "description": "Site search ranker."}),
            docs.response({**docs.PROJECT_EXAMPLE, "latest": None}, status=201),
        ],
        summary="Create a project (manager of the team)",
        request=ProjectCreateInput,
        responses={201: ProjectOutput, **E(*docs.COMMON_ERRORS, 400, 403)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(ProjectCreateInput, request.data)
        team = visible_teams(user=request.user).filter(slug=data.pop("team")).first()
        if team is None:
            raise ValidationError({"team": [_("You are not a member of a team with this slug.")]})
        tags = data.pop("tags", None)
        with transaction.atomic():
            project = project_create(actor=actor_of(request), team=team, **data)
            if tags is not None:
                project_tags_set(actor=actor_of(request), project=project, names=tags)
        fresh = project_with_latest_score(user=request.user, slug=project.slug)
        return Response(ProjectOutput(fresh).data, status=status.HTTP_201_CREATED)


def _valid(serializer_class: Any, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ProjectDetailView(ApiView):
    queryset = Project.objects.none()
    serializer_class = ProjectUpdateInput

    @extend_schema(
        operation_id="projects_retrieve",
        examples=[docs.response(docs.PROJECT_EXAMPLE)],
        summary="A project with its latest score",
        responses={200: ProjectOutput, **E(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(ProjectOutput(project_with_latest_score(user=request.user, slug=slug)).data)

    @extend_schema(
        operation_id="projects_partial_update",
        examples=[
            docs.request({"badge_public": True, "audit_cadence_days": 60}),
            docs.response({**docs.PROJECT_EXAMPLE, "badge_public": True, "audit_cadence_days": 60}),
        ],
        summary="Change a project (manager)",
        request=ProjectUpdateInput,
        responses={200: ProjectOutput, **E(*docs.COMMON_ERRORS, 400, 403, 404)},
    )
    def patch(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        data = _valid(ProjectUpdateInput, request.data)
        tags = data.pop("tags", None)
        with transaction.atomic():
            project_update(actor=actor_of(request), project=project, **data)
            if tags is not None:
                project_tags_set(actor=actor_of(request), project=project, names=tags)
        return Response(ProjectOutput(project_with_latest_score(user=request.user, slug=slug)).data)

    @extend_schema(
        operation_id="projects_destroy",
        examples=[docs.response(None, status=204)],
        summary="Delete a project and its audits (manager)",
        responses={204: None, **E(*docs.COMMON_ERRORS, 403, 404)},
    )
    def delete(self, request: Request, slug: str) -> Response:
        project_delete(actor=actor_of(request), project=project_for_user(user=request.user, slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


# Audits -------------------------------------------------------------------------


class ProjectAuditListView(ApiView):
    queryset = Audit.objects.none()
    serializer_class = AuditStartInput
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditFilter

    @extend_schema(
        operation_id="projects_audits_list",
        examples=[docs.response(docs.paginated(docs.AUDIT_SUMMARY_EXAMPLE))],
        summary="The project's audits, newest first",
        responses={200: AuditSummaryOutput(many=True), **E(*docs.COMMON_ERRORS, 400, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        page = self.paginate_queryset(self.filter_queryset(project_audits(project=project)))
        return self.get_paginated_response(AuditSummaryOutput(page, many=True).data)

    @extend_schema(
        operation_id="projects_audits_create",
        examples=[
            docs.request({"rubric": "ml-test-score", "copy_from_latest": False}),
            docs.response({**docs.AUDIT_DETAIL_EXAMPLE, "answers": []}, status=201),
        ],
        summary="Start an audit (manager)",
        request=AuditStartInput,
        responses={201: AuditDetailOutput, **E(*docs.COMMON_ERRORS, 400, 403, 404)},
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for_user(user=request.user, slug=slug)
        data = _valid(AuditStartInput, request.data)
        rubric = None
        if data.get("rubric") or data.get("rubric_version"):
            rubric = rubric_by_slug(data.get("rubric") or BUILTIN_SLUG, data.get("rubric_version"))
            if rubric is None:
                raise ValidationError({"rubric": [_("No rubric with this slug and version is loaded.")]})
        audit = audit_start(
            actor=actor_of(request), project=project, rubric=rubric, copy_from_latest=data["copy_from_latest"]
        )
        audit = audit_for_user(user=request.user, audit_id=audit.pk)
        return Response(audit_detail_data(audit), status=status.HTTP_201_CREATED)


class AuditDetailView(ApiView):
    queryset = Audit.objects.none()
    serializer_class = AuditDetailOutput

    @extend_schema(
        operation_id="audits_retrieve",
        examples=[docs.response(docs.AUDIT_DETAIL_EXAMPLE)],
        summary="An audit with its answers and score",
        responses={200: AuditDetailOutput, **E(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request, audit_id: int) -> Response:
        return Response(audit_detail_data(audit_for_user(user=request.user, audit_id=audit_id)))

    @extend_schema(
        operation_id="audits_destroy",
        examples=[docs.response(None, status=204)],
        summary="Delete a draft audit (manager)",
        responses={204: None, **E(*docs.COMMON_ERRORS, 403, 404, 409)},
    )
    def delete(self, request: Request, audit_id: int) -> Response:
        audit_delete(actor=actor_of(request), audit=audit_for_user(user=request.user, audit_id=audit_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditAnswersView(ApiView):
    queryset = Audit.objects.none()
    serializer_class = AnswerInput
    # A list body is JSON only: a form or multipart body parsed to an empty list and answered 200 having
    # saved nothing. Other media types get 415.
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="audits_answers_bulk_update",
        examples=[
            docs.request(docs.ANSWERS_REQUEST_EXAMPLE),
            docs.response(docs.AUDIT_DETAIL_EXAMPLE),
            docs.response(docs.BULK_ERROR_EXAMPLE, name="One bad element rejects all", status=400),
        ],
        summary="Save many answers at once, all or nothing (editor)",
        description=(
            "A list of answers by item code. Later entries for the same item win. If any element is not "
            f"valid the request fails with 400, `fields` keyed by element index, and nothing is saved. "
            f"At most {MAX_BULK_ANSWERS} elements. `not_applicable` asks for an exemption: `notes` is the "
            "justification and `expires_on` the expiry; it counts once a manager approves it "
            "(POST …/exemptions/{item}/decision/)."
        ),
        request=AnswerInput(many=True),
        responses={200: AuditDetailOutput, **E(*docs.COMMON_ERRORS, 400, 403, 404, 409)},
    )
    def patch(self, request: Request, audit_id: int) -> Response:
        audit = audit_for_user(user=request.user, audit_id=audit_id)
        if isinstance(request.data, list) and len(request.data) > MAX_BULK_ANSWERS:
            raise ValidationError(_("Send at most %(n)s answers per request.") % {"n": MAX_BULK_ANSWERS})
        serializer = AnswerInput(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        answers_bulk_upsert(actor=actor_of(request), audit=audit, entries=list(serializer.validated_data))
        return Response(audit_detail_data(audit_for_user(user=request.user, audit_id=audit_id)))


class AuditSubmitView(ApiView):
    queryset = Audit.objects.none()
    serializer_class = serializers.Serializer

    @extend_schema(
        operation_id="audits_submit",
        examples=[
            docs.response(
                {**docs.AUDIT_DETAIL_EXAMPLE, "status": "submitted", "final": 2.5, "band": "Reasonably tested"}
            )
        ],
        summary="Submit the audit: freeze its answers and scores (manager)",
        request=None,
        responses={200: AuditDetailOutput, **E(*docs.COMMON_ERRORS, 403, 404, 409)},
    )
    def post(self, request: Request, audit_id: int) -> Response:
        audit_submit(actor=actor_of(request), audit=audit_for_user(user=request.user, audit_id=audit_id))
        return Response(audit_detail_data(audit_for_user(user=request.user, audit_id=audit_id)))


class AuditScoreView(ApiView):
    queryset = Audit.objects.none()
    serializer_class = ScoreOutput

    @extend_schema(
        operation_id="audits_score",
        examples=[docs.response(docs.SCORE_EXAMPLE)],
        summary="The audit's score: final, band, sections and weakest sections",
        responses={200: ScoreOutput, **E(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request, audit_id: int) -> Response:
        return Response(score_data(audit_for_user(user=request.user, audit_id=audit_id)))


class AuditExportView(ApiView):
    queryset = Audit.objects.none()
    serializer_class = ExportOutput
    renderer_classes = [JSONRenderer]
    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        operation_id="audits_export",
        examples=[
            docs.response(docs.EXPORT_EXAMPLE, name="JSON"),
            docs.response(docs.MARKDOWN_EXAMPLE, name="Markdown", media_type="text/markdown"),
            docs.response(docs.CSV_EXAMPLE, name="CSV", media_type="text/csv"),
        ],
        summary="Export the whole audit as JSON, CSV or a Markdown report",
        parameters=[
            OpenApiParameter("format", str, enum=["json", "csv", "md"], description="json (default), csv or md.")
        ],
        responses={
            (200, "application/json"): ExportOutput,
            (200, "text/csv"): str,
            (200, "text/markdown"): str,
            **E(*docs.COMMON_ERRORS, 400, 404),
        },
    )
    def get(self, request: Request, audit_id: int) -> HttpResponse:
        audit = audit_for_user(user=request.user, audit_id=audit_id)
        export_format = _valid(ExportQueryInput, {"format": request.query_params.get("format", "json")})["format"]
        data = ExportOutput(audit_export_data(audit=audit)).data
        filename = f"{audit.project.slug}-audit-{audit.pk}.{export_format}"
        response: HttpResponse
        if export_format == "csv":
            response = HttpResponse(render_csv(data), content_type="text/csv; charset=utf-8")
        elif export_format == "md":
            response = HttpResponse(render_markdown(data), content_type="text/markdown; charset=utf-8")
        else:
            response = Response(data)
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response


# Trend and portfolio ------------------------------------------------------------


class ProjectTrendView(ApiView):
    queryset = Audit.objects.none()
    serializer_class = TrendPointOutput
    pagination_class = None  # a time series is read whole

    @extend_schema(
        operation_id="projects_trend",
        examples=[docs.response(docs.TREND_EXAMPLE)],
        summary="Scores of the project's submitted audits, oldest first",
        responses={200: TrendPointOutput(many=True), **E(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        points = project_trend(project=project_for_user(user=request.user, slug=slug))
        return Response(TrendPointOutput(points, many=True).data)


class PortfolioView(ApiView):
    queryset = Project.objects.none()
    serializer_class = PortfolioRowOutput
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProjectFilter

    @extend_schema(
        operation_id="portfolio_list",
        examples=[docs.response(docs.paginated(docs.PORTFOLIO_ROW_EXAMPLE))],
        summary="One row per visible project: latest score, band, change, last audit, overdue",
        responses={200: PortfolioRowOutput(many=True), **E(*docs.COMMON_ERRORS, 400, 404)},
    )
    def get(self, request: Request) -> Response:
        projects = self.filter_queryset(portfolio_queryset(user=request.user).order_by("name", "pk"))
        page = self.paginate_queryset(portfolio_rows(user=request.user, projects=projects))  # type: ignore[arg-type]
        return self.get_paginated_response(PortfolioRowOutput(page, many=True).data)
