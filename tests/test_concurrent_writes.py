"""Writes racing each other on real PostgreSQL: each thread has its own database connection and its own
transaction, as two web workers would (so these tests commit: transaction=True)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections

from audits.models import Answer, Membership, Project, Role
from audits.services import answer_save, answers_bulk_upsert, audit_start, membership_remove, membership_set
from rubric.models import Item
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROUNDS = 12


@pytest.fixture(autouse=True)
def _postgresql_only():
    assert connection.vendor == "postgresql", "these races need real row locks: set DATABASE_URL to PostgreSQL"


def run_together(*calls: Callable[[], Any]) -> list[BaseException | None]:
    """Run the calls in parallel threads released at the same moment; return what each raised (or None)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[BaseException | None] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            call()
        except BaseException as exc:  # reported to the test thread
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_bulk_saves_on_different_audits_do_not_deadlock_on_the_shared_rubric_rows(rubric, team, editor, manager):
    codes = list(Item.objects.filter(rubric=rubric).order_by("section__order", "order").values_list("code", flat=True))
    half = len(codes) // 2
    for round_ in range(ROUNDS):
        project = Project.objects.create(team=team, name=f"Race {round_}", slug=f"race-{round_}")
        first, second = audit_start(actor=manager, project=project), audit_start(actor=manager, project=project)
        # Each audit already has the answers the other one lacks: its save updates some rows and inserts others.
        answers_bulk_upsert(actor=editor, audit=first, entries=[{"item": c, "status": "manual"} for c in codes[:half]])
        answers_bulk_upsert(actor=editor, audit=second, entries=[{"item": c, "status": "manual"} for c in codes[half:]])
        everything = [{"item": code, "status": "automated", "notes": f"round {round_}"} for code in codes]
        outcomes = run_together(
            partial(answers_bulk_upsert, actor=editor, audit=first, entries=everything),
            partial(answers_bulk_upsert, actor=editor, audit=second, entries=everything),
            partial(answer_save, actor=editor, audit=first, item_code=codes[-1], status="not_done"),
            partial(answer_save, actor=editor, audit=second, item_code=codes[0], status="not_done"),
        )
        assert [repr(exc) for exc in outcomes if exc is not None] == [], f"round {round_}"
        for audit in (first, second):
            assert Answer.objects.filter(audit=audit).count() == len(codes)


def test_two_managers_demoting_each_other_at_once_leave_the_team_a_manager(team):
    alice, bob = make_user("alice"), make_user("bob")
    for user in (alice, bob):
        Membership.objects.create(team=team, user=user, role=Role.MANAGER)
    for round_ in range(ROUNDS):
        Membership.objects.filter(team=team).update(role=Role.MANAGER)
        outcomes = run_together(
            lambda: membership_set(actor=alice, team=team, username_or_email="bob", role=Role.EDITOR),
            lambda: membership_set(actor=bob, team=team, username_or_email="alice", role=Role.VIEWER),
        )
        assert Membership.objects.filter(team=team, role=Role.MANAGER).count() == 1, f"round {round_}"
        # The later one is refused: by the time it holds the lock its actor is no manager any more.
        refused = [exc for exc in outcomes if exc is not None]
        assert len(refused) == 1 and isinstance(refused[0], ValidationError | PermissionDenied), refused


def test_two_managers_removing_each_other_at_once_leave_the_team_a_manager(team):
    alice, bob = make_user("alice"), make_user("bob")
    for round_ in range(ROUNDS):
        Membership.objects.filter(team=team).delete()
        mine = Membership.objects.create(team=team, user=alice, role=Role.MANAGER)
        theirs = Membership.objects.create(team=team, user=bob, role=Role.MANAGER)
        outcomes = run_together(
            partial(membership_remove, actor=alice, membership=theirs),
            partial(membership_remove, actor=bob, membership=mine),
        )
        assert Membership.objects.filter(team=team, role=Role.MANAGER).count() == 1, f"round {round_}"
        refused = [exc for exc in outcomes if exc is not None]
        assert len(refused) == 1 and isinstance(refused[0], ValidationError | PermissionDenied), refused
