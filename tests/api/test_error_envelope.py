"""One JSON error envelope for every API error: validation, roles, invisible rows, bad input, conflicts, crashes."""

from __future__ import annotations

import pytest

from audits.api.exceptions import api_exception_handler
from audits.services import AnswerConflict

pytestmark = pytest.mark.django_db


def test_validation_errors_name_each_field(client_as, team, manager):
    response = client_as("manager").post("/api/v1/projects/", {"team": "ranking", "audit_cadence_days": 0})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and error["code"] == "invalid"
    assert set(error["fields"]) == {"name", "audit_cadence_days"}


def test_service_validation_errors_use_the_same_envelope(client_as, project, manager):
    response = client_as("manager").post(
        "/api/v1/projects/", {"name": "Dup", "team": "ranking", "slug": "search-ranking"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"slug": ["This slug is already taken."]}


def test_a_role_too_low_gets_403_with_a_message(client_as, project, viewer):
    response = client_as("viewer").delete("/api/v1/projects/search-ranking/")
    assert response.json() == {
        "error": {"status": 403, "code": "permission_denied", "message": "Your role in this team does not allow this."}
    }


def test_an_invisible_project_gets_404_not_403(client_as, project, outsider):
    response = client_as("outsider").delete("/api/v1/projects/search-ranking/")
    assert response.json() == {"error": {"status": 404, "code": "not_found", "message": "No such project."}}


def test_malformed_json_is_400_in_the_envelope(client_as, project, manager):
    response = client_as("manager").generic(
        "PATCH", "/api/v1/projects/search-ranking/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_bad_filter_value_is_400(client_as, project, viewer):
    response = client_as("viewer").get("/api/v1/projects/?updated_since=yesterday")
    assert response.status_code == 400
    assert "updated_since" in response.json()["error"]["fields"]


def test_unsupported_method_is_405_in_the_envelope(client_as, project, viewer):
    response = client_as("viewer").put("/api/v1/projects/search-ranking/", {})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_an_answer_conflict_becomes_409_with_the_current_version(answered_audit):
    answer = answered_audit.answers.get(item__code="data-1")
    response = api_exception_handler(AnswerConflict(current=answer), {})
    assert response.status_code == 409
    assert response.data["error"]["code"] == "conflict"
    assert response.data["error"]["fields"] == {"version": [str(answer.version)]}


def test_an_unexpected_error_is_logged_and_answered_in_the_envelope(settings, caplog):
    settings.DEBUG = False
    with caplog.at_level("ERROR", logger="mlaudit.api"):
        response = api_exception_handler(RuntimeError("disk on fire"), {"view": None})
    assert response.status_code == 500
    assert response.data["error"]["code"] == "server_error"
    assert "disk on fire" not in str(response.data)
    assert any(record.exc_info and "disk on fire" in str(record.exc_info[1]) for record in caplog.records)
