"""/api/v1/portfolio/: a row per project: its latest score, change since the previous audit, band, overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import Project
from tests.api.conftest import KNOWN_BAND, KNOWN_FINAL

pytestmark = pytest.mark.django_db


def test_portfolio_row_has_latest_score_change_band_and_overdue(client_as, submitted_audit, improved_audit, project):
    Project.objects.create(team=project.team, name="Ads ranking", slug="ads-ranking")
    Project.objects.filter(slug="ads-ranking").update(created_at=timezone.now() - timedelta(days=400))
    body = client_as("viewer").get("/api/v1/portfolio/").json()
    rows = {row["project"]["slug"]: row for row in body["results"]}
    assert rows["search-ranking"]["project"] == {
        "slug": "search-ranking",
        "name": project.name,
        "team": {"slug": project.team.slug, "name": project.team.name},
    }
    assert rows["search-ranking"]["final"] == 3.0
    assert rows["search-ranking"]["previous_final"] == KNOWN_FINAL
    assert rows["search-ranking"]["change"] == 0.5
    assert rows["search-ranking"]["band"]["label"] == KNOWN_BAND
    assert rows["search-ranking"]["latest_audit"] == improved_audit.pk
    assert rows["search-ranking"]["overdue"] is False
    assert rows["ads-ranking"]["final"] is None and rows["ads-ranking"]["overdue"] is True
