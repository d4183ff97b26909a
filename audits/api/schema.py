"""OpenAPI helpers: documented error responses and the examples shown in /api/docs/."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from audits.api.serializers import ErrorSerializer

_ERROR_EXAMPLES: dict[int, tuple[str, str, str, dict[str, Any] | None]] = {
    400: (
        "Invalid request",
        "invalid",
        "Some fields are not valid; see “fields”.",
        {"name": ["This field is required."]},
    ),
    401: ("No credentials", "not_authenticated", "Authentication credentials were not provided.", None),
    403: ("Role too low", "permission_denied", "Your role in this team does not allow this.", None),
    404: ("Not visible", "not_found", "No such project.", None),
    409: ("Audit submitted", "audit_locked", "This audit is submitted and can no longer change.", None),
    413: ("Too large", "too_large", "The report is 25000000 bytes; at most 20971520 are accepted.", None),
    429: ("Too many requests", "throttled", "Request was throttled. Expected available in 20 seconds.", None),
}

_DESCRIPTIONS = {
    400: "The request is not valid; `fields` names each problem.",
    401: "No credentials, or a revoked or unknown token.",
    403: "Your role in the project's team does not allow this.",
    404: "Not found, or not visible to you.",
    409: "The audit is already submitted.",
    413: "The request body or file is larger than the limit.",
    429: "Too many requests; see the Retry-After header.",
}


def _example(status: int) -> OpenApiExample:
    summary, code, message, fields = _ERROR_EXAMPLES[status]
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if fields:
        body["fields"] = fields
    return OpenApiExample(summary, value={"error": body}, response_only=True, status_codes=[str(status)])


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[status], examples=[_example(status)])
        for status in statuses
    }


# Every authenticated endpoint can answer these.
COMMON_ERRORS = (401, 429)

TEAM_EXAMPLE = {"slug": "ranking", "name": "Ranking"}
PROJECT_EXAMPLE = {
    "slug": "search-ranking",
    "name": "Search ranking",
    "team": TEAM_EXAMPLE,
    "description": "Learning-to-rank model behind site search.",
    "owner_contact": "ranking-oncall@example.com",
    "audit_cadence_days": 90,
    "badge_public": False,
    "evidence_fresh_days_automated": 30,
    "evidence_fresh_days_manual": 90,
    "created_at": "2026-01-12T09:30:00Z",
    "updated_at": "2026-03-02T16:05:00Z",
    "latest": {"audit": 12, "final": 2.5, "band": "Reasonably tested", "submitted_at": "2026-03-02T16:05:00Z"},
    "tags": ["production"],
}
AUDIT_SUMMARY_EXAMPLE = {
    "id": 12,
    "project": "search-ranking",
    "status": "draft",
    "rubric": {"slug": "ml-test-score", "version": "2017"},
    "copied_from": None,
    "created_at": "2026-03-01T10:00:00Z",
    "created_by": "mara",
    "updated_at": "2026-03-01T10:20:00Z",
    "submitted_at": None,
    "submitted_by": None,
    "final": None,
    "band": "",
}
SCORE_EXAMPLE = {
    "audit": 12,
    "status": "draft",
    "final": 2.5,
    "final_strict": 2.0,
    "exempted": ["model-6"],
    "pending_exemptions": 0,
    "band": {
        "label": "Reasonably tested",
        "meaning": "Testing is reasonably thorough, although more could be automated.",
    },
    "sections": [
        {"key": "data", "title": "Tests for features and data", "score": 3.5, "max": 7.0, "answered": 7, "total": 7},
        {"key": "model", "title": "Tests for model development", "score": 2.5, "max": 7.0, "answered": 7, "total": 7},
        {"key": "infra", "title": "Tests for ML infrastructure", "score": 4.0, "max": 7.0, "answered": 7, "total": 7},
        {"key": "monitoring", "title": "Monitoring tests", "score": 3.0, "max": 7.0, "answered": 7, "total": 7},
    ],
    "weakest": ["model"],
    "answered": 28,
    "total": 28,
    "rubric": {"slug": "ml-test-score", "version": "2017"},
}
ANSWER_EXAMPLE = {
    "item": "data-1",
    "status": "automated",
    "notes": "Schema checked in the nightly pipeline.",
    "evidence": ["https://ci.example.com/pipelines/4711"],
    "carried_over": False,
    "stale": False,
    "stale_reason": None,
    "version": 2,
    "answered_by": "eddie",
    "answered_at": "2026-03-01T10:20:00Z",
    "exemption_state": "",
    "expires_on": None,
    "decision_by": None,
    "decision_at": None,
    "decision_comment": "",
}
EXEMPT_ANSWER_EXAMPLE = {
    **ANSWER_EXAMPLE,
    "item": "model-6",
    "status": "not_applicable",
    "notes": "A single global model: there are no data slices to compare.",
    "evidence": [],
    "exemption_state": "approved",
    "expires_on": "2026-09-01",
    "decision_by": "mara",
    "decision_at": "2026-03-02T09:00:00Z",
    "decision_comment": "Agreed; look again when we add regional models.",
}
AUDIT_DETAIL_EXAMPLE = {**AUDIT_SUMMARY_EXAMPLE, "answers": [ANSWER_EXAMPLE], "score": SCORE_EXAMPLE}


def paginated(*results: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(results), "next": None, "previous": None, "results": list(results)}


def response(value: Any, *, name: str = "Example", status: int = 200, media_type: str = "application/json") -> Any:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[str(status)], media_type=media_type)


def request(value: Any, *, name: str = "Request") -> Any:
    return OpenApiExample(name, value=value, request_only=True)


RUBRIC_SUMMARY_EXAMPLE = {
    "slug": "ml-test-score",
    "version": "2017",
    "title": "The ML Test Score",
    "description": "28 tests in four sections; the final score is the lowest section score.",
    "source": "Breck et al., IEEE Big Data 2017.",
    "points": {"not_done": 0.0, "manual": 0.5, "automated": 1.0},
    "exemption_points": 1.0,
    "bands": [
        {"lower": None, "upper": 0.0, "label": "Research project", "meaning": "Closer to a prototype."},
        {"lower": 0.0, "upper": 1.0, "label": "Serious gaps", "meaning": "Significant holes are likely."},
    ],
    "loaded_at": "2026-01-01T00:00:00Z",
}
RUBRIC_DETAIL_EXAMPLE = {
    **RUBRIC_SUMMARY_EXAMPLE,
    "versions": ["2017"],
    "sections": [
        {
            "key": "data",
            "title": "Tests for features and data",
            "items": [
                {
                    "code": "data-1",
                    "allows_not_applicable": True,
                    "title": "Feature expectations are captured in a schema",
                    "guidance": "…",
                }
            ],
        }
    ],
}
ANSWERS_REQUEST_EXAMPLE = [
    {
        "item": "data-1",
        "status": "automated",
        "notes": "Schema checked in the nightly pipeline.",
        "evidence": ["https://ci.example.com/pipelines/4711"],
    },
    {"item": "model-3", "status": "manual", "notes": "Reviewed by hand in March."},
    {
        "item": "model-6",
        "status": "not_applicable",
        "notes": "A single global model: there are no data slices to compare.",
        "expires_on": "2026-09-01",
    },
]
BULK_ERROR_EXAMPLE = {
    "error": {
        "status": 400,
        "code": "invalid",
        "message": "Elements 1, 499 of the request are not valid; nothing was saved.",
        "fields": {
            "1": {"item": ["Unknown item “data-99” for this rubric."]},
            "499": {"evidence": ["“ftp://example.com/x” is not an http or https link."]},
        },
    }
}
TREND_EXAMPLE = [
    {
        "audit": 7,
        "submitted_at": "2025-12-01T10:00:00Z",
        "submitted_by": "mara",
        "final": 1.5,
        "final_strict": 1.5,
        "exempted": 0,
        "sections": {"data": 2.0, "model": 1.5, "infra": 3.0, "monitoring": 2.5},
    },
    {
        "audit": 12,
        "submitted_at": "2026-03-02T16:05:00Z",
        "submitted_by": "mara",
        "final": 2.5,
        "final_strict": 2.0,
        "exempted": 1,
        "sections": {"data": 3.5, "model": 2.5, "infra": 4.0, "monitoring": 3.0},
    },
]
PORTFOLIO_ROW_EXAMPLE = {
    "project": {"slug": "search-ranking", "name": "Search ranking", "team": TEAM_EXAMPLE},
    "latest_audit": 12,
    "final": 2.5,
    "final_strict": 2.0,
    "exempted": 1,
    "band": SCORE_EXAMPLE["band"],
    "previous_final": 1.5,
    "change": 1.0,
    "last_audit_at": "2026-03-02T16:05:00Z",
    "due_at": "2026-05-31T16:05:00Z",
    "overdue": False,
}
MARKDOWN_EXAMPLE = (
    "# ML Test Score audit: Search ranking\n\n**Final score: 2.5** — Reasonably tested. …\n\n"
    "| Section | Score | Answered |\n|---|---:|---:|\n| Tests for features and data | 3.5 / 7 | 7 / 7 |\n…"
)
CSV_EXAMPLE = (
    "project,audit,audit_status,final_score,band,section,section_score,section_max,item,title,status,points,"
    "notes,evidence,answered_by,answered_at\nsearch-ranking,12,submitted,2.5,Reasonably tested,data,3.5,7,data-1,"
    "Feature expectations are captured in a schema,automated,1,Nightly check.,https://ci.example.com/4711,eddie,"
    "2026-03-01T10:20:00Z\n…"
)


MAX_DATABASE_ID = 2**63 - 1


SLUG_PATTERN = "^[-a-zA-Z0-9_]+$"
# Answers the exception handler (audits.api.exceptions) can give to any request.
UNIVERSAL_ERRORS = (400, 401, 403, 404, 429)


def constrain_path_parameters(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook: document what the URL patterns accept, so clients (and the fuzzer) know.

    An integer path parameter is a database id (0 ≤ id < 2**63); a slug matches Django's slug converter.
    """
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "path":
                    continue
                schema = parameter.setdefault("schema", {})
                if schema.get("type") == "integer":
                    schema.update(minimum=0, maximum=MAX_DATABASE_ID)
                elif parameter.get("name") == "slug":
                    schema.update(pattern=SLUG_PATTERN)
    return result


def document_universal_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook: every operation may answer with the error envelope (bad input, no or wrong
    credentials, role, not found, throttled), including views that do not list those answers themselves."""
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in UNIVERSAL_ERRORS:
                responses.setdefault(
                    str(status),
                    {
                        "description": _DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result


EXPORT_EXAMPLE = {
    "project": {"slug": "search-ranking", "name": "Search ranking", "team": TEAM_EXAMPLE},
    "audit": {**AUDIT_SUMMARY_EXAMPLE, "status": "submitted", "final": 2.5, "band": "Reasonably tested"},
    "rubric": {"slug": "ml-test-score", "version": "2017"},
    "final": 2.5,
    "final_strict": 2.0,
    "exempted": ["model-6"],
    "band": SCORE_EXAMPLE["band"],
    "weakest": ["model"],
    "sections": [
        {
            **SCORE_EXAMPLE["sections"][0],  # type: ignore[index]
            "items": [
                {
                    "code": "data-1",
                    "title": "Feature expectations are captured in a schema",
                    "status": "automated",
                    "exemption_state": "",
                    "expires_on": None,
                    "points": 1.0,
                    "notes": "Schema checked in the nightly pipeline.",
                    "evidence": ["https://ci.example.com/pipelines/4711"],
                    "answered_by": "eddie",
                    "answered_at": "2026-03-01T10:20:00Z",
                }
            ],
        }
    ],
}
