"""What a CI job does with a token: create a project, start an audit, push all 28 answers in one
request, submit, then read the score, trend, badge and Markdown report."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audits.api.tokens import api_token_create
from tests.api.conftest import KNOWN_BAND, KNOWN_FINAL, KNOWN_SECTIONS, known_answers

pytestmark = pytest.mark.django_db


def test_a_script_with_a_token_runs_a_whole_audit(manager, rubric):
    _token, key = api_token_create(user=manager, name="CI")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    project = api.post("/api/v1/projects/", {"name": "Churn model", "team": "ranking"}, format="json")
    assert project.status_code == 201
    slug = project.json()["slug"]

    audit = api.post(f"/api/v1/projects/{slug}/audits/", {"rubric": "ml-test-score"}, format="json")
    assert audit.status_code == 201
    audit_id = audit.json()["id"]

    pushed = api.patch(f"/api/v1/audits/{audit_id}/answers/", known_answers(), format="json")
    assert pushed.status_code == 200
    assert pushed.json()["score"]["answered"] == 28

    submitted = api.post(f"/api/v1/audits/{audit_id}/submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"

    score = api.get(f"/api/v1/audits/{audit_id}/score/").json()
    assert score["final"] == KNOWN_FINAL and score["band"]["label"] == KNOWN_BAND and score["weakest"] == ["model"]

    trend = api.get(f"/api/v1/projects/{slug}/trend/").json()
    assert [(point["audit"], point["final"], point["sections"]) for point in trend] == [
        (audit_id, KNOWN_FINAL, KNOWN_SECTIONS)
    ]

    badge = api.get(f"/api/v1/projects/{slug}/badge.svg")
    assert badge.status_code == 200
    assert "ML Test Score: 2.5" in badge.content.decode()

    report = api.get(f"/api/v1/audits/{audit_id}/export/?format=md")
    assert report.status_code == 200
    assert "**Final score: 2.5** — Reasonably tested." in report.content.decode()

    # Making the badge public lets a README show it to anyone.
    assert APIClient().get(f"/api/v1/projects/{slug}/badge.svg").status_code == 404
    api.patch(f"/api/v1/projects/{slug}/", {"badge_public": True}, format="json")
    public = APIClient().get(f"/api/v1/projects/{slug}/badge.svg")
    assert public.status_code == 200 and public["Cache-Control"] == "public, max-age=300"
