"""Projects created at the same moment with the same name each get a slug of their own (issue 12, defect 11).

Real threads on PostgreSQL, each with its own connection and transaction (so the test commits)."""

from __future__ import annotations

from functools import partial

import pytest
from django.db import connection

from audits.models import Project
from audits.services import project_create
from tests.test_concurrent_writes import run_together

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PARALLEL = 4
ROUNDS = 5


def test_parallel_creations_of_one_name_all_succeed_with_distinct_slugs(team, manager):
    assert connection.vendor == "postgresql", "this race needs real concurrent inserts: set DATABASE_URL"
    for round_ in range(ROUNDS):
        name = f"Churn model {round_}"
        outcomes = run_together(*[partial(project_create, actor=manager, team=team, name=name)] * PARALLEL)
        assert [repr(exc) for exc in outcomes if exc is not None] == [], f"round {round_}"
        slugs = sorted(Project.objects.filter(name=name).values_list("slug", flat=True))
        base = f"churn-model-{round_}"
        assert slugs == sorted([base, *(f"{base}-{n}" for n in range(2, PARALLEL + 1))])
