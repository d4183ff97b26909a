"""The API lists' filters: team, band of the latest audit, updated since; the portfolio takes the same ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import Project, Team
from audits.services import audit_start
from tests.api.conftest import slugs, submit_known

pytestmark = pytest.mark.django_db


def test_projects_filter_by_team(client_as, project, staff):
    other = Team.objects.create(name="Ads", slug="ads")
    Project.objects.create(team=other, name="Bidder", slug="bidder")
    assert slugs(client_as("staff").get("/api/v1/projects/?team=ads")) == ["bidder"]
    assert slugs(client_as("staff").get("/api/v1/projects/?team=ranking")) == ["search-ranking"]


def test_projects_filter_by_band_of_latest_audit(client_as, project, manager):
    submit_known(project, manager)
    Project.objects.create(team=project.team, name="Unaudited", slug="unaudited")
    assert slugs(client_as("manager").get("/api/v1/projects/?band=reasonably tested")) == ["search-ranking"]
    assert slugs(client_as("manager").get("/api/v1/projects/?band=First steps")) == []


def test_projects_filter_by_updated_since_includes_audit_activity(client_as, project, manager):
    quiet = Project.objects.create(team=project.team, name="Quiet", slug="quiet")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Project.objects.filter(pk__in=[project.pk, quiet.pk]).update(updated_at=an_hour_ago - timedelta(days=1))
    audit_start(actor=manager, project=project)
    since = an_hour_ago.isoformat().replace("+00:00", "Z")
    response = client_as("manager").get("/api/v1/projects/", {"updated_since": since})
    assert slugs(response) == ["search-ranking"]


def test_portfolio_uses_the_same_filters(client_as, project, manager):
    submit_known(project, manager)
    Project.objects.create(team=project.team, name="Unaudited", slug="unaudited")
    body = client_as("manager").get("/api/v1/portfolio/?band=Reasonably tested").json()
    assert [row["project"]["slug"] for row in body["results"]] == ["search-ranking"]
    ordered = client_as("manager").get("/api/v1/portfolio/?ordering=-name").json()
    assert [row["project"]["slug"] for row in ordered["results"]] == ["unaudited", "search-ranking"]
