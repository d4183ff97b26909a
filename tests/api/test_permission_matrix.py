"""Every endpoint, called by anonymous, outsider, viewer, editor, manager and staff.

401 without credentials, 404 for what the caller may not see (never 403 for another team's project),
403 for a role that may not act, and success otherwise. Staff act on every team's projects.
"""

from __future__ import annotations

import pytest

from audits.models import Audit, Project
from tests.api.conftest import ROLES

pytestmark = pytest.mark.django_db

READ = {"anonymous": 401, "outsider": 404, "viewer": 200, "editor": 200, "manager": 200, "staff": 200}
LISTED = {"anonymous": 401, "outsider": 200, "viewer": 200, "editor": 200, "manager": 200, "staff": 200}


def manage(success: int) -> dict[str, int]:
    return {"anonymous": 401, "outsider": 404, "viewer": 403, "editor": 403, "manager": success, "staff": success}


def edit(success: int) -> dict[str, int]:
    return {"anonymous": 401, "outsider": 404, "viewer": 403, "editor": success, "manager": success, "staff": success}


# (name, method, url template, body, expected status per role)
ENDPOINTS = [
    ("rubric list", "get", "/api/v1/rubrics/", None, LISTED),
    ("rubric detail", "get", "/api/v1/rubrics/ml-test-score/", None, LISTED),
    ("project list", "get", "/api/v1/projects/", None, LISTED),
    (
        "project create",
        "post",
        "/api/v1/projects/",
        {"name": "New model", "team": "ranking"},
        # An outsider names a team it cannot see: a field error, which reveals nothing about the team.
        {**manage(201), "outsider": 400},
    ),
    ("project detail", "get", "/api/v1/projects/search-ranking/", None, READ),
    ("project update", "patch", "/api/v1/projects/search-ranking/", {"description": "Changed."}, manage(200)),
    ("project delete", "delete", "/api/v1/projects/search-ranking/", None, manage(204)),
    ("audit list", "get", "/api/v1/projects/search-ranking/audits/", None, READ),
    ("audit start", "post", "/api/v1/projects/search-ranking/audits/", {"copy_from_latest": False}, manage(201)),
    ("trend", "get", "/api/v1/projects/search-ranking/trend/", None, READ),
    ("portfolio", "get", "/api/v1/portfolio/", None, LISTED),
    ("audit detail", "get", "/api/v1/audits/{audit}/", None, READ),
    ("audit delete", "delete", "/api/v1/audits/{audit}/", None, manage(204)),
    (
        "bulk answers",
        "patch",
        "/api/v1/audits/{audit}/answers/",
        [{"item": "data-1", "status": "manual"}],
        edit(200),
    ),
    ("submit", "post", "/api/v1/audits/{audit}/submit/", None, manage(200)),
    ("score", "get", "/api/v1/audits/{audit}/score/", None, READ),
    ("export", "get", "/api/v1/audits/{audit}/export/?format=md", None, READ),
    (
        "private badge",
        "get",
        "/api/v1/projects/search-ranking/badge.svg",
        None,
        {**READ, "anonymous": 404},
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "url", "body", "expected"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_endpoint_answers_each_role_as_its_rights_allow(
    client_as, draft_audit, outsider, viewer, editor, manager, staff, role, name, method, url, body, expected
):
    client = client_as(role)
    response = getattr(client, method)(url.format(audit=draft_audit.pk), body, format="json")
    assert response.status_code == expected[role], response.content
    if response.status_code >= 400:
        assert response.json()["error"]["status"] == response.status_code


@pytest.mark.parametrize("role", ROLES)
def test_public_badge_is_served_to_everyone(client_as, project, outsider, viewer, editor, manager, staff, role):
    Project.objects.filter(pk=project.pk).update(badge_public=True)
    response = client_as(role).get("/api/v1/projects/search-ranking/badge.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")


@pytest.mark.parametrize("role", ["outsider", "viewer"])
def test_lists_show_only_projects_of_the_callers_teams(client_as, project, outsider, viewer, role):
    slugs = [p["slug"] for p in client_as(role).get("/api/v1/projects/").json()["results"]]
    portfolio = [r["project"]["slug"] for r in client_as(role).get("/api/v1/portfolio/").json()["results"]]
    expected = [] if role == "outsider" else ["search-ranking"]
    assert slugs == expected and portfolio == expected


def test_staff_sees_every_teams_projects(client_as, project, outsider, staff):
    Project.objects.create(team=outsider.teams.get(), name="Their model", slug="their-model")
    slugs = {p["slug"] for p in client_as("staff").get("/api/v1/projects/").json()["results"]}
    assert slugs == {"search-ranking", "their-model"}


def test_writes_refused_with_403_leave_data_unchanged(client_as, draft_audit, viewer):
    client = client_as("viewer")
    client.patch(f"/api/v1/audits/{draft_audit.pk}/answers/", [{"item": "data-1", "status": "manual"}], format="json")
    client.post(f"/api/v1/audits/{draft_audit.pk}/submit/")
    client.delete("/api/v1/projects/search-ranking/")
    draft_audit.refresh_from_db()
    assert draft_audit.status == "draft" and not draft_audit.answers.exists()
    assert Project.objects.filter(slug="search-ranking").exists()
    assert Audit.objects.filter(pk=draft_audit.pk).exists()


def test_session_sign_in_works_for_the_browser(client, project, viewer):
    client.force_login(viewer)
    assert client.get("/api/v1/projects/search-ranking/").status_code == 200


def test_session_writes_need_the_csrf_token(project, manager):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    response = browser.patch(
        "/api/v1/projects/search-ranking/", data='{"description": "x"}', content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
