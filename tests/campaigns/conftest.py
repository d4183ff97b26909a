"""Campaign fixtures: a second team the manager also runs, and helpers to submit audits with chosen scores."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from audits.campaigns.services import campaign_create
from audits.models import Campaign, Membership, Project, Role, Team
from tests.dashboards.conftest import AUTOMATED, MANUAL, codes, known_statuses, submit_audit

__all__ = ["AUTOMATED", "MANUAL", "codes", "known_statuses", "submit_audit"]


@pytest.fixture
def ads(manager) -> Team:
    """A second team, also managed by the `manager` fixture."""
    team = Team.objects.create(name="Ads", slug="ads")
    Membership.objects.create(team=team, user=manager, role=Role.MANAGER)
    return team


@pytest.fixture
def bidder(ads) -> Project:
    return Project.objects.create(team=ads, name="Bidder", slug="bidder")


def statuses_for_final(codes: list[str], final: str) -> dict[str, str]:
    """Answers whose final score is exactly `final` ("0", "1.5", "2.5", …): every section gets the same
    score, as automated items then one manual item for a half point."""
    value = float(final)
    whole, half = int(value), value - int(value) >= 0.5
    statuses: dict[str, str] = {}
    for section in range(4):
        section_codes = codes[section * 7 : section * 7 + 7]
        statuses.update({code: AUTOMATED for code in section_codes[:whole]})
        if half:
            statuses[section_codes[whole]] = MANUAL
    return statuses


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def two_team_campaign(manager, team, ads, rubric) -> Campaign:
    """Reasonably tested (a final above 2) for both teams, started 10 days ago, due in 30 days."""
    return campaign_create(
        actor=manager,
        name="Q2 readiness",
        description="Every production model at Reasonably tested.",
        target="Reasonably tested",
        teams=[team, ads],
        starts_on=today() - timedelta(days=10),
        due_on=today() + timedelta(days=30),
    )
