"""/api/v1/campaigns/: the contract of the issue, the error envelope naming the field, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.campaigns.services import campaign_create, project_tags_set
from audits.models import Campaign, Membership, Role, Team
from audits.services import answers_bulk_upsert, audit_start, audit_submit
from tests.api.conftest import ROLES, known_answers

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def body(**overrides):
    return {
        "name": "Q2 readiness",
        "description": "Every production model at Reasonably tested.",
        "target": "Reasonably tested",
        "teams": ["ranking"],
        "tags": [],
        "starts_on": TODAY.isoformat(),
        "due_on": (TODAY + timedelta(days=30)).isoformat(),
        **overrides,
    }


@pytest.fixture
def campaign(manager, team, rubric) -> Campaign:
    return campaign_create(
        actor=manager, name="Ranking push", target="2", teams=[team], starts_on=TODAY, due_on=TODAY + timedelta(days=9)
    )


def test_a_manager_creates_a_campaign_for_two_teams_and_reads_it_back(client_as, manager, team, project, rubric):
    ads = Team.objects.create(name="Ads", slug="ads")
    Membership.objects.create(team=ads, user=manager, role=Role.MANAGER)
    project_tags_set(actor=manager, project=project, names=["production"])

    response = client_as("manager").post("/api/v1/campaigns/", body(teams=["ranking", "ads"], tags=["production"]))

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created == {
        "id": created["id"],
        "name": "Q2 readiness",
        "description": "Every production model at Reasonably tested.",
        "target": "Reasonably tested",
        "teams": ["ads", "ranking"],  # by team name
        "tags": ["production"],
        "starts_on": TODAY.isoformat(),
        "due_on": (TODAY + timedelta(days=30)).isoformat(),
        "created_at": created["created_at"],
        "updated_at": created["updated_at"],
    }
    assert client_as("manager").get(f"/api/v1/campaigns/{created['id']}/").json() == created
    assert [c["id"] for c in client_as("viewer").get("/api/v1/campaigns/").json()["results"]] == [created["id"]]


def test_progress_lists_each_project_with_final_met_and_next_steps(client_as, manager, project, campaign):
    audit = audit_start(actor=manager, project=project)
    answers_bulk_upsert(actor=manager, audit=audit, entries=known_answers())
    audit_submit(actor=manager, audit=audit)
    project.team.projects.create(name="Unaudited", slug="unaudited")

    response = client_as("viewer").get(f"/api/v1/campaigns/{campaign.pk}/progress/")

    assert response.status_code == 200
    progress = response.json()
    assert progress == {
        "projects": [
            {"project": "search-ranking", "final": 2.5, "met": True, "next_steps_count": 0},
            # From nothing to 2 in each of four sections: two automated items per section.
            {"project": "unaudited", "final": None, "met": False, "next_steps_count": 8},
        ],
        "total": 2,
        "met": 1,
    }


def test_patch_changes_only_the_fields_sent_and_delete_removes_it(client_as, campaign):
    manager = client_as("manager")
    patched = manager.patch(f"/api/v1/campaigns/{campaign.pk}/", {"target": "3.5"}, format="json")
    assert patched.status_code == 200 and patched.json()["target"] == "3.5"
    assert patched.json()["due_on"] == (TODAY + timedelta(days=9)).isoformat()
    assert manager.delete(f"/api/v1/campaigns/{campaign.pk}/").status_code == 204
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target": "Bulletproof"}, "target"),
        ({"target": "8"}, "target"),
        ({"teams": [], "tags": []}, "teams"),
        ({"due_on": (TODAY - timedelta(days=1)).isoformat()}, "due_on"),
        ({"teams": ["nowhere"]}, "teams"),
        ({"tags": ["unknown-tag"]}, "tags"),
        ({"starts_on": "31/12/2026"}, "starts_on"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(client_as, team, rubric, overrides, field):
    response = client_as("manager").post("/api/v1/campaigns/", body(**overrides), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and field in error["fields"]
    assert not Campaign.objects.exists()


def test_a_refused_patch_keeps_the_campaign(client_as, campaign):
    response = client_as("manager").patch(
        f"/api/v1/campaigns/{campaign.pk}/", {"due_on": (TODAY - timedelta(days=1)).isoformat()}, format="json"
    )
    assert response.status_code == 400 and "due_on" in response.json()["error"]["fields"]
    campaign.refresh_from_db()
    assert campaign.due_on == TODAY + timedelta(days=9)


READ = {"anonymous": 401, "outsider": 404, "viewer": 200, "editor": 200, "manager": 200, "staff": 200}
WRITE = {"anonymous": 401, "outsider": 404, "viewer": 403, "editor": 403}


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client_as, role, campaign, manager, editor, viewer, outsider, staff):
    client = client_as(role)
    url = f"/api/v1/campaigns/{campaign.pk}/"

    assert client.get(url).status_code == READ[role]
    assert client.get(url + "progress/").status_code == READ[role]
    create = client.post("/api/v1/campaigns/", body(), format="json").status_code
    assert create == {**WRITE, "outsider": 400, "manager": 201, "staff": 201}[role]  # outsider: an unknown team
    assert (
        client.patch(url, {"name": "Renamed"}, format="json").status_code
        == {**WRITE, "manager": 200, "staff": 200}[role]
    )
    assert client.delete(url).status_code == {**WRITE, "manager": 204, "staff": 204}[role]


def test_an_id_beyond_the_database_range_is_a_404(client_as, rubric):
    response = client_as("manager").get(f"/api/v1/campaigns/{2**63}/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
