from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from audits.models import Audit, Project
from audits.selectors import portfolio_queryset, portfolio_rows, project_trend
from audits.services import answers_bulk_upsert, audit_start, audit_submit, project_refresh_latest_audits


def submitted_audit(*, project, actor, statuses, days_ago):
    audit = audit_start(actor=actor, project=project)
    answers_bulk_upsert(
        actor=actor, audit=audit, entries=[{"item": code, "status": status} for code, status in statuses.items()]
    )
    audit = audit_submit(actor=actor, audit=audit)
    Audit.objects.filter(pk=audit.pk).update(submitted_at=timezone.now() - timedelta(days=days_ago))
    project_refresh_latest_audits(Project.objects.filter(pk=project.pk))  # the dates changed
    return audit


EVERY_SECTION_MANUAL = {f"{s}-1": "manual" for s in ("data", "model", "infra", "monitoring")}
EVERY_SECTION_TWICE_AUTOMATED = {
    f"{s}-{n}": "automated" for s in ("data", "model", "infra", "monitoring") for n in (1, 2)
}


def test_portfolio_row_shows_latest_score_change_and_band(project, manager):
    submitted_audit(project=project, actor=manager, statuses=EVERY_SECTION_MANUAL, days_ago=200)
    latest = submitted_audit(project=project, actor=manager, statuses=EVERY_SECTION_TWICE_AUTOMATED, days_ago=10)
    (row,) = portfolio_rows(user=manager)
    assert row.latest_audit_id == latest.pk
    assert row.final == Decimal(2)
    assert row.previous_final == Decimal("0.5")
    assert row.change == Decimal("1.5")
    assert row.band is not None and (row.band.lower, row.band.upper) == (Decimal(1), Decimal(2))
    assert row.overdue is False


def test_a_project_whose_last_audit_is_older_than_its_cadence_is_overdue(project, manager):
    submitted_audit(project=project, actor=manager, statuses={}, days_ago=91)
    (row,) = portfolio_rows(user=manager)
    assert row.overdue is True
    assert row.final == 0 and row.change is None


def test_portfolio_shows_only_the_users_teams(project, outsider, staff):
    assert portfolio_rows(user=outsider) == []
    assert [row.project_id for row in portfolio_rows(user=staff)] == [project.pk]


def test_portfolio_query_count_does_not_grow_with_projects(team, manager, django_assert_max_num_queries):
    for n in range(6):
        extra = Project.objects.create(team=team, name=f"P{n}", slug=f"p{n}")
        submitted_audit(project=extra, actor=manager, statuses=EVERY_SECTION_MANUAL, days_ago=n)
    portfolio_rows(user=manager)  # warms the rubric spec cache
    with django_assert_max_num_queries(1):
        assert len(portfolio_rows(user=manager, projects=portfolio_queryset(user=manager))) == 6


def test_trend_lists_submitted_audits_oldest_first_with_frozen_sections(project, manager):
    older = submitted_audit(project=project, actor=manager, statuses=EVERY_SECTION_MANUAL, days_ago=30)
    newer = submitted_audit(project=project, actor=manager, statuses=EVERY_SECTION_TWICE_AUTOMATED, days_ago=1)
    audit_start(actor=manager, project=project)  # a draft is not part of the trend
    points = project_trend(project=project)
    assert [p.audit_id for p in points] == [older.pk, newer.pk]
    assert points[1].sections == {"data": 2.0, "model": 2.0, "infra": 2.0, "monitoring": 2.0}
    assert points[0].final == Decimal("0.5")
    assert points[0].submitted_by == "mara"


@pytest.mark.parametrize("days_ago", [0, 89])
def test_a_recent_audit_is_not_overdue(project, manager, days_ago):
    submitted_audit(project=project, actor=manager, statuses={}, days_ago=days_ago)
    assert portfolio_rows(user=manager)[0].overdue is False
