"""/api/v1/projects/: managers create, patch and delete projects; a project shows its latest submitted score."""

from __future__ import annotations

import pytest

from audits.models import Project
from tests.api.conftest import KNOWN_BAND, KNOWN_FINAL

pytestmark = pytest.mark.django_db


def test_manager_creates_project_in_own_team(client_as, team, manager):
    response = client_as("manager").post(
        "/api/v1/projects/", {"name": "Fraud model", "team": "ranking", "description": "Scores payments."}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "fraud-model"
    assert body["team"] == {"slug": "ranking", "name": "Ranking"}
    assert body["latest"] is None
    assert Project.objects.get(slug="fraud-model").description == "Scores payments."


def test_project_detail_shows_latest_submitted_score(client_as, submitted_audit):
    body = client_as("viewer").get("/api/v1/projects/search-ranking/").json()
    assert body["latest"]["audit"] == submitted_audit.pk
    assert body["latest"]["final"] == KNOWN_FINAL
    assert body["latest"]["band"] == KNOWN_BAND


def test_manager_patches_project_fields(client_as, project):
    response = client_as("manager").patch(
        "/api/v1/projects/search-ranking/", {"badge_public": True, "audit_cadence_days": 30}
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.badge_public is True and project.audit_cadence_days == 30


def test_patching_a_blank_name_is_refused_by_the_service(client_as, project):
    response = client_as("manager").patch("/api/v1/projects/search-ranking/", {"name": "  "})
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_manager_deletes_project(client_as, submitted_audit):
    assert client_as("manager").delete("/api/v1/projects/search-ranking/").status_code == 204
    assert not Project.objects.filter(slug="search-ranking").exists()
