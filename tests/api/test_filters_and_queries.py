"""Filters (team, band, updated since), documented ordering, pagination, and constant query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audits.models import Project, Team
from audits.services import answers_bulk_upsert, audit_start, audit_submit
from tests.api.conftest import known_answers

pytestmark = pytest.mark.django_db


def add_projects(team, count, *, start=0):
    return [
        Project.objects.create(team=team, name=f"Model {start + n:03}", slug=f"model-{start + n:03}")
        for n in range(count)
    ]


def submit_known(project, actor, entries=None):
    audit = audit_start(actor=actor, project=project)
    answers_bulk_upsert(actor=actor, audit=audit, entries=entries if entries is not None else known_answers())
    return audit_submit(actor=actor, audit=audit)


def slugs(response):
    return [row["slug"] for row in response.json()["results"]]


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


def test_projects_ordering_by_score_descending_then_name(client_as, project, manager):
    weak = Project.objects.create(team=project.team, name="A weak one", slug="weak")
    submit_known(project, manager)
    submit_known(weak, manager, entries=[{"item": "data-1", "status": "manual"}])
    Project.objects.create(team=project.team, name="Zero", slug="zero")
    assert slugs(client_as("manager").get("/api/v1/projects/?ordering=-score")) == ["search-ranking", "weak", "zero"]
    assert slugs(client_as("manager").get("/api/v1/projects/?ordering=score")) == ["weak", "search-ranking", "zero"]
    assert slugs(client_as("manager").get("/api/v1/projects/?ordering=name")) == ["weak", "search-ranking", "zero"]


def test_unknown_ordering_field_is_400(client_as, project, viewer):
    assert client_as("viewer").get("/api/v1/projects/?ordering=password").status_code == 400


def test_portfolio_uses_the_same_filters(client_as, project, manager):
    submit_known(project, manager)
    Project.objects.create(team=project.team, name="Unaudited", slug="unaudited")
    body = client_as("manager").get("/api/v1/portfolio/?band=Reasonably tested").json()
    assert [row["project"]["slug"] for row in body["results"]] == ["search-ranking"]
    ordered = client_as("manager").get("/api/v1/portfolio/?ordering=-name").json()
    assert [row["project"]["slug"] for row in ordered["results"]] == ["unaudited", "search-ranking"]


def test_lists_are_paginated(client_as, team, manager):
    add_projects(team, 7)
    first = client_as("manager").get("/api/v1/projects/?page_size=3").json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["next"]
    last = client_as("manager").get("/api/v1/projects/?page_size=3&page=3").json()
    assert [p["slug"] for p in last["results"]] == ["model-006"]


def test_a_page_past_the_end_is_404(client_as, project, viewer):
    assert client_as("viewer").get("/api/v1/projects/?page=9").status_code == 404


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/projects/", "/api/v1/portfolio/", "/api/v1/projects/model-000/audits/", "/api/v1/rubrics/"],
)
def test_list_query_counts_do_not_grow_with_rows(client_as, team, manager, url):
    one_answer = [{"item": "data-1", "status": "manual"}]
    projects = add_projects(team, 2)
    for project in projects:
        submit_known(project, manager, one_answer)
    client = client_as("manager")
    client.get(url)  # warm per-process caches (rubric specs) and the token's last-used time
    few = count_queries(client, url)

    more = add_projects(team, 8, start=2)
    for project in more:
        submit_known(project, manager, one_answer)
    for _ in range(5):
        submit_known(projects[0], manager, one_answer)
    many = count_queries(client, url)
    assert many == few


def test_a_token_request_for_a_list_takes_four_queries(client_as, team, staff):
    add_projects(team, 3)
    client = client_as("staff")
    client.get("/api/v1/projects/")
    # The token with its user, the count for pagination, the page itself and the tags of its projects.
    assert count_queries(client, "/api/v1/projects/") == 4
