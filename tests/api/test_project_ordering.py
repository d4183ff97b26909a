"""The API lists sort by score, by change since the previous audit and by the next audit's due date, in SQL, with
the portfolio page's names (one filter set); projects without a value come last either way; other fields are 400."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import Project
from tests.api.conftest import slugs, submit_known

pytestmark = pytest.mark.django_db


def test_projects_sort_by_change_and_due(client_as, project, manager):
    steady = Project.objects.create(team=project.team, name="Steady", slug="steady", audit_cadence_days=400)
    fresh = Project.objects.create(team=project.team, name="Fresh", slug="fresh", audit_cadence_days=10)
    submit_known(project, manager, entries=[{"item": "data-1", "status": "manual"}])
    submit_known(project, manager)  # 0 then 2.5: +2.5
    submit_known(steady, manager)
    submit_known(steady, manager)  # 2.5 then 2.5: 0
    Project.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - timedelta(days=1))
    client = client_as("manager")

    assert slugs(client.get("/api/v1/projects/?ordering=-change")) == ["search-ranking", "steady", "fresh"]
    assert slugs(client.get("/api/v1/projects/?ordering=change")) == ["steady", "search-ranking", "fresh"]
    # Due: fresh in 9 days, search-ranking in 90, steady in 400.
    assert [row["project"]["slug"] for row in client.get("/api/v1/portfolio/?ordering=due").json()["results"]] == [
        "fresh",
        "search-ranking",
        "steady",
    ]


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
