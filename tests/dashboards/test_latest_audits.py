"""Each project keeps its latest and previous submitted audits, so the portfolio never searches the audits."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.models import Project
from audits.selectors import portfolio_rows
from audits.services import audit_start
from tests.dashboards.conftest import AUTOMATED, MANUAL, bulk_portfolio, days_ago, submit_audit

pytestmark = pytest.mark.django_db


def test_submitting_an_audit_makes_it_the_projects_latest_and_the_one_before_its_previous(
    project, manager, codes, known_statuses
):
    first = submit_audit(project=project, actor=manager, statuses={codes[0]: MANUAL})
    project.refresh_from_db()
    assert (project.last_audit_id, project.last_audit_final, project.previous_audit_id) == (first.pk, 0, None)

    second = submit_audit(project=project, actor=manager, statuses=known_statuses)
    project.refresh_from_db()

    assert project.last_audit_id == second.pk
    assert project.last_audit_at == second.submitted_at
    assert project.last_audit_final == Decimal("1.5")
    assert (project.previous_audit_id, project.previous_audit_final) == (first.pk, first.final_score)


def test_a_draft_started_or_deleted_leaves_the_latest_audits_alone(project, manager, codes):
    submitted = submit_audit(project=project, actor=manager, statuses={codes[0]: AUTOMATED})
    from audits.services import audit_delete

    audit_delete(actor=manager, audit=audit_start(actor=manager, project=project))
    project.refresh_from_db()

    assert project.last_audit_id == submitted.pk


def test_the_latest_audit_is_the_last_submitted_not_the_last_created(project, manager, codes):
    newer = submit_audit(project=project, actor=manager, statuses={codes[0]: AUTOMATED}, when=days_ago(1))
    older = submit_audit(project=project, actor=manager, statuses={codes[0]: MANUAL}, when=days_ago(90))
    project.refresh_from_db()

    assert (project.last_audit_id, project.previous_audit_id) == (newer.pk, older.pk)


def test_the_migration_fills_in_the_latest_audits_of_existing_projects(team, rubric, manager):
    projects = bulk_portfolio(team=team, rubric=rubric, user=manager, projects=3, audits=3)
    expected = list(Project.objects.order_by("pk").values_list("last_audit", "previous_audit", "last_audit_final"))
    Project.objects.update(last_audit=None, last_audit_at=None, last_audit_final=None, previous_audit=None)
    migration = importlib.import_module("audits.migrations.0005_project_latest_audits")

    migration.fill_latest_audits(apps, None)

    filled = list(Project.objects.order_by("pk").values_list("last_audit", "previous_audit", "last_audit_final"))
    assert filled == expected
    latest = projects[0].audits.order_by("-submitted_at").values_list("pk", flat=True)
    assert filled[0][:2] == (latest[0], latest[1])


def test_the_portfolio_reads_its_rows_without_searching_the_audits(client, team, rubric, manager):
    bulk_portfolio(team=team, rubric=rubric, user=manager, projects=4, audits=3)

    with CaptureQueriesContext(connection) as captured:
        rows = portfolio_rows(user=manager)

    (rows_query,) = captured.captured_queries
    assert len(rows) == 4 and all(row.previous_final is not None for row in rows)
    # No per-project subquery over audits: at most the latest audit joined by its primary key.
    assert " LIMIT " not in rows_query["sql"] and "'submitted'" not in rows_query["sql"]
    client.force_login(manager)
    assert client.get(reverse("dashboards:portfolio")).status_code == 200
