"""schemathesis against the live OpenAPI schema, in-process through the WSGI application.

Every documented operation is called with generated (schema-valid) data and a staff token:
no 5xx, and status codes, content types, headers and bodies must match the schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from audits.api.tokens import api_token_create
from audits.services import audit_start
from config.wsgi import application

EXAMPLES_PER_OPERATION = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def staff_key(staff) -> str:
    return api_token_create(user=staff, name="schemathesis")[1]


@pytest.fixture
def keep_test_connection():
    # Django closes the database connection when a request starts and finishes; the test client
    # avoids that the same way, so requests through the WSGI application see the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def api_schema(db, keep_test_connection, submitted_audit, settings):
    # The fuzzer sends hundreds of requests; the throttle is tested elsewhere.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "anon": "100000/minute"},
    }
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).include(path_regex=r"^/api/v1/")


CORE_OPERATIONS = {
    "rubrics_list",
    "rubrics_retrieve",
    "projects_list",
    "projects_create",
    "projects_retrieve",
    "projects_partial_update",
    "projects_destroy",
    "projects_audits_list",
    "projects_audits_create",
    "projects_trend",
    "project_badge",
    "portfolio_list",
    "audits_retrieve",
    "audits_destroy",
    "audits_answers_bulk_update",
    "audits_submit",
    "audits_score",
    "audits_export",
}


def conformance_test(operation, headers, path_parameters):
    """A Hypothesis test calling one operation; `path_parameters` replace generated ones when given."""

    @given(case=operation.as_strategy(GenerationMode.POSITIVE))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def call_and_check(case):
        if path_parameters and case.path_parameters:
            case.path_parameters = {name: path_parameters.get(name, v) for name, v in case.path_parameters.items()}
        case.validate_response(case.call(headers=headers), checks=CHECKS)

    return call_and_check


def test_every_operation_conforms_to_the_schema(api_schema, staff_key, project, manager):
    # Driven through Hypothesis directly: schemathesis' pytest plugin does not run under this pytest version.
    headers = {"Authorization": f"Token {staff_key}"}
    # Random ids and slugs mostly find nothing; a second pass aims this API's operations at real objects.
    draft = audit_start(actor=manager, project=project)  # beside the submitted audit of api_schema
    existing = {"slug": project.slug, "audit_id": draft.pk}
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 17
    # Submitting and deleting last, so the other operations of the second pass find a draft to work on.
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path.endswith("/submit/")))

    for aim_at_existing in (False, True):
        for operation in operations:
            if aim_at_existing and operation.definition.raw.get("operationId") not in CORE_OPERATIONS:
                # Other features' operations (MLflow syncs reach out to servers) get only the first pass.
                continue
            real = {**existing, "slug": "ml-test-score"} if "/rubrics/" in operation.path else existing
            try:
                conformance_test(operation, headers, real if aim_at_existing else None)()
            except BaseException as exc:  # collect every operation's failure, not just the first
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                failures[f"{operation.label} (existing: {aim_at_existing})"] = str(exc)[:2000]
    assert failures == {}, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def test_the_schema_is_served_publicly_and_documents_token_auth(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    document = response.json()
    assert document["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    assert "/api/v1/audits/{audit_id}/answers/" in document["paths"]


def test_every_core_operation_has_request_and_response_examples(client):
    document = client.get("/api/schema/?format=json").json()
    seen, missing = set(), []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation["operationId"] not in CORE_OPERATIONS:
                continue
            seen.add(operation["operationId"])
            responses = operation["responses"]
            success = next(code for code in responses if code.startswith("2"))
            content = responses[success].get("content", {})
            has_response_example = not content or all("examples" in media for media in content.values())
            body = operation.get("requestBody", {}).get("content", {})
            has_request_example = not body or any("examples" in media for media in body.values())
            if not (has_response_example and has_request_example):
                missing.append(f"{method.upper()} {path}")
    assert seen == CORE_OPERATIONS
    assert missing == []


def test_swagger_ui_is_served_from_this_site(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
