"""Hostile or merely odd inputs get a 4xx in the error envelope, never a 500 (issue 12, defect 6)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from audits.api.views import MAX_BULK_ANSWERS
from audits.models import Answer
from audits.services import MAX_NOTES_LENGTH, audit_start
from integrations.mlflow.services import validate_thresholds

pytestmark = pytest.mark.django_db

NESTED = "[" * 1000 + "]" * 1000  # 2 KB that overflowed the JSON parser's recursion


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    return error


@pytest.fixture
def draft(project, manager, rubric):
    return audit_start(actor=manager, project=project, rubric=rubric)


@pytest.mark.parametrize(
    "entry",
    [
        {"item": "data-1", "status": "manual", "notes": "before\x00after"},
        {"item": "data-1", "status": "manual", "evidence": ["https://ci.example.com/\x00"]},
        {"item": "data-1\x00", "status": "manual"},
        {"item": "data-1", "status": "manual\x00"},
    ],
    ids=["notes", "evidence", "item", "status"],
)
def test_a_nul_character_in_an_answer_is_a_400_and_saves_nothing(client_as, draft, editor, entry):
    response = client_as("editor").patch(f"/api/v1/audits/{draft.pk}/answers/", [entry], format="json")
    error_of(response, 400)
    assert not Answer.objects.filter(audit=draft).exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/rubrics/ml-test-score/?version=2017%00",
        "/api/v1/projects/?team=ranking%00",
        "/api/v1/portfolio/?team=ranking%00",
        "/api/v1/projects/?band=a%00",
    ],
)
def test_a_nul_character_in_a_query_parameter_is_a_4xx_in_the_envelope(client_as, project, viewer, url):
    response = client_as("viewer").get(url)
    assert response.status_code in (400, 404)
    error_of(response, response.status_code)


def test_deeply_nested_json_is_a_parse_error_not_a_recursion_error(client_as, draft, editor):
    response = client_as("editor").generic(
        "PATCH", f"/api/v1/audits/{draft.pk}/answers/", NESTED, content_type="application/json"
    )
    assert error_of(response, 400)["code"] == "parse_error"


def test_a_body_over_the_upload_limit_is_413_in_the_envelope(client_as, draft, editor):
    body = json.dumps([{"item": "data-1", "status": "manual", "notes": "x" * 1000}])
    body += " " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1 - len(body))
    response = client_as("editor").generic(
        "PATCH", f"/api/v1/audits/{draft.pk}/answers/", body, content_type="application/json"
    )
    assert error_of(response, 413)["code"] == "too_large"
    assert not Answer.objects.filter(audit=draft).exists()


def test_the_largest_bulk_save_the_readme_allows_fits_under_the_upload_limit(client_as, draft, editor, rubric):
    codes = list(rubric.items.values_list("code", flat=True))
    notes = "€" * MAX_NOTES_LENGTH  # three bytes a character in UTF-8
    entries = [{"item": codes[n % len(codes)], "status": "manual", "notes": notes} for n in range(MAX_BULK_ANSWERS)]
    body = json.dumps(entries, ensure_ascii=False).encode()
    assert len(body) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = client_as("editor").generic(
        "PATCH", f"/api/v1/audits/{draft.pk}/answers/", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content[:300]
    assert Answer.objects.filter(audit=draft).count() == len(codes)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/not%20a%20slug/",
        "/api/v1/projects/%C3%A9t%C3%A9/audits/",
        "/api/v1/rubrics/a.b/",
        "/api/v1/audits/not-a-number/",
        "/api/v1/no-such-endpoint/",
    ],
)
def test_an_api_path_that_matches_no_route_is_a_404_in_the_envelope(client_as, viewer, path):
    assert error_of(client_as("viewer").get(path), 404)["code"] == "not_found"


def test_pages_outside_the_api_keep_the_html_404(client, manager):
    client.force_login(manager)
    response = client.get("/projects/not%20a%20slug/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "thresholds",
    [{"quality_metric": "accuracy\x00"}, {"approval_tags": ["approved\x00"]}],
)
def test_a_nul_character_in_a_threshold_value_is_refused(thresholds):
    with pytest.raises(ValidationError):
        validate_thresholds(thresholds)


@pytest.mark.parametrize("notes", [{"text": "x"}, ["x"], 12, True])
def test_the_page_save_refuses_notes_that_are_not_text_instead_of_saving_their_repr(client, editor, draft, notes):
    client.force_login(editor)
    response = client.post(
        f"/audits/{draft.pk}/answers/data-1/", {"status": "manual", "notes": notes}, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["errors"]
    assert not Answer.objects.filter(audit=draft).exists()


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=b"])
def test_a_bulk_save_that_is_not_json_is_415_instead_of_a_200_that_saved_nothing(
    client_as, draft, editor, content_type
):
    body = "--b\r\nContent-Disposition: form-data; name=item\r\n\r\ndata-1\r\n--b--\r\n"
    response = client_as("editor").generic(
        "PATCH",
        f"/api/v1/audits/{draft.pk}/answers/",
        body if "multipart" in content_type else "item=data-1",
        content_type=content_type,
    )
    assert error_of(response, 415)["code"] == "unsupported_media_type"
