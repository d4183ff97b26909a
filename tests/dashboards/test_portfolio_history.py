"""The portfolio over time and per team: month buckets by each project's latest audit at the month's end,
the median final score, the per-team rollup; all through the one filter set, with fixed query counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.campaigns.services import project_tags_set
from audits.dashboards.portfolio_history import band_history, month_starts
from audits.dashboards.selectors import band_labels
from audits.models import Audit, Membership, Project, Role, Team
from audits.services import project_refresh_latest_audits
from tests.campaigns.conftest import statuses_for_final
from tests.dashboards.conftest import bulk_portfolio, submit_audit

pytestmark = pytest.mark.django_db

PORTFOLIO = reverse("dashboards:portfolio")


def month_day(months_back: int, day: int = 10) -> datetime:
    """A moment on `day` of the month `months_back` months before this one, in the site's time zone."""
    start = month_starts(timezone.localdate())[-1 - months_back]
    return timezone.make_aware(datetime(start.year, start.month, day, 12))


def test_month_starts_cover_the_last_twelve_months_across_a_new_year():
    starts = month_starts(date(2026, 3, 15))
    assert len(starts) == 12
    assert starts[0] == date(2025, 4, 1) and starts[-3:] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


@pytest.fixture
def history_projects(team, manager, codes):
    """alpha: 1 (five months ago), then 2.5 (two months ago); beta: 3 (eighteen months ago, before the window);
    gamma: never audited."""
    alpha = Project.objects.create(team=team, name="Alpha", slug="alpha")
    beta = Project.objects.create(team=team, name="Beta", slug="beta")
    Project.objects.create(team=team, name="Gamma", slug="gamma")
    submit_audit(project=alpha, actor=manager, statuses=statuses_for_final(codes, "1"), when=month_day(5))
    submit_audit(project=alpha, actor=manager, statuses=statuses_for_final(codes, "2.5"), when=month_day(2))
    old = submit_audit(project=beta, actor=manager, statuses=statuses_for_final(codes, "3"))
    Audit.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - timedelta(days=550))
    project_refresh_latest_audits(Project.objects.filter(pk=beta.pk))
    return alpha, beta


def test_each_month_counts_every_project_by_its_latest_audit_by_the_months_end(history_projects, rubric):
    bands = band_labels(rubric_id=rubric.pk)
    history = band_history(projects=Project.objects.all(), bands=bands)
    by_label = {band.label: row for band, row in zip(history.bands, history.counts, strict=True)}

    # Eleven to six months ago only beta counts, at 3: Reasonably tested, the band (2, 3].
    assert by_label["Reasonably tested"][:6] == [1] * 6
    # Five to three months ago alpha is at 1 (Serious gaps); from two months ago at 2.5 (Reasonably tested).
    assert by_label["Serious gaps"] == [0] * 6 + [1, 1, 1] + [0, 0, 0]
    assert by_label["Reasonably tested"][6:] == [1, 1, 1, 2, 2, 2]
    assert sum(sum(row) for row in history.counts) == 6 * 1 + 6 * 2  # gamma never counts
    assert history.medians[:6] == [Decimal(3)] * 6
    assert history.medians[6:9] == [Decimal(2)] * 3  # median of 1 and 3
    assert history.medians[9:] == [Decimal("2.75")] * 3  # median of 2.5 and 3


def test_the_rollup_shows_projects_median_share_at_or_above_a_band_and_overdue(client, manager, history_projects):
    vision = Team.objects.create(name="Vision", slug="vision")
    Membership.objects.create(team=vision, user=manager, role=Role.MANAGER)
    Project.objects.create(team=vision, name="Camera", slug="camera")
    client.force_login(manager)

    rollup = {row.slug: row for row in client.get(PORTFOLIO).context["rollup"]}
    strict = {row.slug: row for row in client.get(PORTFOLIO, {"at_least": "Strongly tested"}).context["rollup"]}

    ranking = rollup["ranking"]
    assert (ranking.projects, ranking.audited, ranking.median_final) == (3, 2, Decimal("2.75"))
    assert (ranking.at_or_above, ranking.share_at_or_above) == (2, 67)  # Reasonably tested by default
    assert ranking.overdue == 1  # beta's last audit is 550 days old
    assert (strict["ranking"].at_or_above, rollup["vision"].median_final, rollup["vision"].projects) == (0, None, 1)


def test_the_history_and_rollup_follow_the_page_filters(client, manager, history_projects):
    alpha, _beta = history_projects
    project_tags_set(actor=manager, project=alpha, names=["production"])
    client.force_login(manager)

    context = client.get(PORTFOLIO, {"tag": "production"}).context

    assert [line["slug"] for line in context["lines"]] == ["alpha"]
    assert [(row.slug, row.projects) for row in context["rollup"]] == [("ranking", 1)]
    medians = context["history_chart"].payload["figure"]["data"][-1]["y"]
    assert medians[:6] == [None] * 6 and medians[-1] == 2.5


def test_page_sorting_uses_the_api_ordering_names_and_ignores_unknown_ones(client, manager, history_projects):
    client.force_login(manager)
    by_score = client.get(PORTFOLIO, {"ordering": "-score"}).context
    by_due = client.get(PORTFOLIO, {"ordering": "-due"}).context
    unknown = client.get(PORTFOLIO, {"ordering": "password"}).context

    assert [line["slug"] for line in by_score["lines"]] == ["beta", "alpha", "gamma"]
    assert by_score["sort_columns"]["score"] == {"next": "score", "aria": "descending"}
    assert [line["slug"] for line in by_due["lines"]] == ["gamma", "alpha", "beta"]  # latest due first
    assert [line["slug"] for line in unknown["lines"]] == ["alpha", "beta", "gamma"]


def test_band_counts_ignore_the_band_filter_through_the_same_filter_set(client, manager, history_projects):
    client.force_login(manager)
    context = client.get(PORTFOLIO, {"band": "Serious gaps"}).context
    counts = {band.label if band else None: count for band, count in context["portfolio"].band_counts}

    assert context["lines"] == []
    assert counts["Reasonably tested"] == 2 and counts[None] == 1


def count_queries(client, params) -> int:
    client.get(PORTFOLIO, params)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(PORTFOLIO, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("params", [{}, {"band": "First steps", "tag": "production", "ordering": "-due"}])
def test_portfolio_queries_do_not_grow_with_projects_or_audits(client, manager, team, rubric, params):
    client.force_login(manager)
    few = bulk_portfolio(team=team, rubric=rubric, user=manager, projects=2, audits=2)
    for project in few:
        project_tags_set(actor=manager, project=project, names=["production"])
    small = count_queries(client, params)
    many = bulk_portfolio(team=team, rubric=rubric, user=manager, projects=25, audits=14)
    for project in many:
        project_tags_set(actor=manager, project=project, names=["production", "batch"])
    assert count_queries(client, params) == small
    assert small <= 11
