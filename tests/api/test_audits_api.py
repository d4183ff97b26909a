"""Audits through the API: started, copied, listed, answered, scored, submitted and deleted, with the known numbers."""

from __future__ import annotations

import pytest

from audits.models import Audit, AuditStatus
from audits.services import audit_start
from tests.api.conftest import KNOWN_BAND, KNOWN_FINAL, KNOWN_SECTIONS, KNOWN_STATUSES, known_answers

pytestmark = pytest.mark.django_db


def test_starting_an_audit_returns_its_id_and_an_empty_score(client_as, project, rubric):
    response = client_as("manager").post(
        "/api/v1/projects/search-ranking/audits/", {"rubric": "ml-test-score", "copy_from_latest": False}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    audit = Audit.objects.get(pk=body["id"])
    assert audit.project == project and audit.status == AuditStatus.DRAFT
    assert body["answers"] == []
    assert body["score"]["final"] == 0.0 and body["score"]["answered"] == 0 and body["score"]["total"] == 28


def test_an_audit_copied_from_the_latest_carries_its_answers_over(client_as, submitted_audit):
    response = client_as("manager").post("/api/v1/projects/search-ranking/audits/", {"copy_from_latest": True})
    assert response.status_code == 201
    body = response.json()
    assert body["copied_from"] == submitted_audit.pk
    assert len(body["answers"]) == 28 and all(a["carried_over"] for a in body["answers"])
    assert body["score"]["final"] == KNOWN_FINAL


def test_copy_from_latest_without_a_submitted_audit_is_400(client_as, project, rubric):
    response = client_as("manager").post("/api/v1/projects/search-ranking/audits/", {"copy_from_latest": True})
    assert response.status_code == 400
    assert "copy_from_latest" in response.json()["error"]["fields"]


def test_unknown_rubric_slug_is_400(client_as, project, rubric):
    response = client_as("manager").post("/api/v1/projects/search-ranking/audits/", {"rubric": "no-such-rubric"})
    assert response.status_code == 400
    assert "rubric" in response.json()["error"]["fields"]


def test_audit_list_of_a_project_is_newest_first(client_as, submitted_audit, manager, project):
    newer = audit_start(actor=manager, project=project)
    body = client_as("viewer").get("/api/v1/projects/search-ranking/audits/").json()
    assert [a["id"] for a in body["results"]] == [newer.pk, submitted_audit.pk]
    assert body["results"][1]["final"] == KNOWN_FINAL and body["results"][1]["band"] == KNOWN_BAND
    only_drafts = client_as("viewer").get("/api/v1/projects/search-ranking/audits/?status=draft").json()
    assert [a["id"] for a in only_drafts["results"]] == [newer.pk]


def test_audit_detail_has_all_answers_and_the_score(client_as, answered_audit):
    body = client_as("viewer").get(f"/api/v1/audits/{answered_audit.pk}/").json()
    assert {a["item"]: a["status"] for a in body["answers"]} == KNOWN_STATUSES
    assert body["answers"][0]["evidence"] == ["https://ci.example.com/data-1"]
    assert body["score"]["final"] == KNOWN_FINAL


def test_score_endpoint_matches_the_scoring_function(client_as, answered_audit):
    body = client_as("viewer").get(f"/api/v1/audits/{answered_audit.pk}/score/").json()
    assert body["final"] == KNOWN_FINAL
    assert body["band"]["label"] == KNOWN_BAND and body["band"]["meaning"]
    assert {s["key"]: s["score"] for s in body["sections"]} == KNOWN_SECTIONS
    assert {s["max"] for s in body["sections"]} == {7.0}
    assert body["weakest"] == ["model"]
    assert body["rubric"] == {"slug": "ml-test-score", "version": "2017"}
    assert (body["answered"], body["total"]) == (28, 28)


def test_bulk_answers_update_the_score(client_as, answered_audit):
    response = client_as("editor").patch(
        f"/api/v1/audits/{answered_audit.pk}/answers/",
        [{"item": f"model-{n}", "status": "automated"} for n in (4, 5)],
    )
    assert response.status_code == 200, response.content
    score = response.json()["score"]
    assert {s["key"]: s["score"] for s in score["sections"]}["model"] == 4.5
    assert score["final"] == 3.0 and score["weakest"] == ["monitoring"]


def test_submit_freezes_the_scores(client_as, answered_audit):
    response = client_as("manager").post(f"/api/v1/audits/{answered_audit.pk}/submit/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "submitted" and body["final"] == KNOWN_FINAL and body["band"] == KNOWN_BAND
    answered_audit.refresh_from_db()
    assert answered_audit.section_scores == KNOWN_SECTIONS


def test_manager_deletes_a_draft_audit_but_not_a_submitted_one(client_as, draft_audit, submitted_audit):
    other = audit_start(actor=submitted_audit.created_by, project=submitted_audit.project)
    assert client_as("manager").delete(f"/api/v1/audits/{other.pk}/").status_code == 204
    response = client_as("manager").delete(f"/api/v1/audits/{submitted_audit.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "audit_locked"


def test_known_answers_cover_all_28_items():
    assert len(known_answers()) == 28
