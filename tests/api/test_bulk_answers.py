"""PATCH /api/v1/audits/{id}/answers/: all or nothing, bad elements named by index, 409 once submitted."""

from __future__ import annotations

import pytest

from audits.models import Answer, AnswerChange
from tests.api.conftest import KNOWN_STATUSES, known_answers

pytestmark = pytest.mark.django_db


def snapshot(audit):
    return sorted(Answer.objects.filter(audit=audit).values_list("item__code", "status", "notes", "version"))


def test_28_answers_in_one_request_are_all_saved(client_as, draft_audit):
    response = client_as("editor").patch(f"/api/v1/audits/{draft_audit.pk}/answers/", known_answers(), format="json")
    assert response.status_code == 200
    assert dict(Answer.objects.filter(audit=draft_audit).values_list("item__code", "status")) == KNOWN_STATUSES


def test_a_500_element_request_rejected_for_its_last_element_leaves_the_audit_unchanged(client_as, answered_audit):
    before = snapshot(answered_audit)
    changes_before = AnswerChange.objects.count()
    codes = list(KNOWN_STATUSES)
    entries = [{"item": codes[i % 28], "status": "automated", "notes": f"run {i}"} for i in range(499)]
    entries.append({"item": "data-1", "status": "automated", "evidence": ["ftp://files.example.com/report"]})

    response = client_as("editor").patch(f"/api/v1/audits/{answered_audit.pk}/answers/", entries, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == ["499"]
    assert "evidence" in error["fields"]["499"]
    assert "nothing was saved" in error["message"]
    assert snapshot(answered_audit) == before
    assert AnswerChange.objects.count() == changes_before


def test_every_bad_element_is_named_with_its_problem(client_as, draft_audit):
    entries = [
        {"item": "data-1", "status": "automated"},
        {"item": "data-99", "status": "automated"},
        {"item": "data-2", "status": "perfect"},
        {"item": "data-3", "status": "manual", "evidence": ["not a link"]},
    ]
    response = client_as("editor").patch(f"/api/v1/audits/{draft_audit.pk}/answers/", entries, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"1", "2", "3"}
    assert list(fields["1"]) == ["item"] and list(fields["2"]) == ["status"] and list(fields["3"]) == ["evidence"]
    assert not Answer.objects.filter(audit=draft_audit).exists()


def test_elements_of_the_wrong_shape_are_named_by_index(client_as, draft_audit):
    entries = [{"item": "data-1", "status": "manual"}, {"status": "manual"}, "data-2"]
    response = client_as("editor").patch(f"/api/v1/audits/{draft_audit.pk}/answers/", entries, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"1", "2"}
    assert not Answer.objects.filter(audit=draft_audit).exists()


def test_a_body_that_is_not_a_list_is_400(client_as, draft_audit):
    response = client_as("editor").patch(
        f"/api/v1/audits/{draft_audit.pk}/answers/", {"item": "data-1", "status": "manual"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_later_entries_for_the_same_item_win(client_as, draft_audit):
    entries = [{"item": "data-1", "status": "manual"}, {"item": "data-1", "status": "automated"}]
    client_as("editor").patch(f"/api/v1/audits/{draft_audit.pk}/answers/", entries, format="json")
    assert Answer.objects.get(audit=draft_audit, item__code="data-1").status == "automated"


def test_too_many_elements_are_refused_before_any_work(client_as, draft_audit):
    entries = [{"item": "data-1", "status": "manual"}] * 1001
    response = client_as("editor").patch(f"/api/v1/audits/{draft_audit.pk}/answers/", entries, format="json")
    assert response.status_code == 400
    assert "1000" in response.json()["error"]["message"]


def test_answers_to_a_submitted_audit_answer_409_and_change_nothing(client_as, submitted_audit):
    before = snapshot(submitted_audit)
    response = client_as("editor").patch(
        f"/api/v1/audits/{submitted_audit.pk}/answers/", [{"item": "data-5", "status": "automated"}], format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "audit_locked"
    assert snapshot(submitted_audit) == before


def test_submitting_twice_answers_409(client_as, submitted_audit):
    response = client_as("manager").post(f"/api/v1/audits/{submitted_audit.pk}/submit/")
    assert response.status_code == 409
    assert response.json() == {
        "error": {"status": 409, "code": "audit_locked", "message": response.json()["error"]["message"]}
    }
