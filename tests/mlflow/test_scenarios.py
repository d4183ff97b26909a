"""The labelled scenario corpus: mlaudit suggests nothing the data does not back, and most of what it does.

Every scenario of tests/mlflow/scenarios is built once on one real MLflow server with MLflow's own client,
synced into its own project, and its findings compared with the labels written next to it.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.mlflow.scenarios import ITEM_CODES, SCENARIOS
from tests.mlflow.scenarios.harness import (
    AUTOMATED,
    RECALL_TARGET,
    SUPPORTED,
    TOO_HIGH,
    UNSUPPORTED,
    cites_recurrence,
    observe_corpus,
    score,
    totals,
)
from tests.mlflow.server import MlflowServer

# Marked so pytest-django creates the test database; the corpus itself is written once, in the module fixture.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, django_db_setup, django_db_blocker):
    """name → (scenario, its findings by item), built and synced once; the database rows are rolled back."""
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-corpus"))
    server.start()
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            seen = observe_corpus(SCENARIOS, tracking_uri=server.url)
            transaction.set_rollback(True)
    finally:
        server.stop()
    return {s.name: score(s, seen[s.name]) for s in SCENARIOS}


CASES = [pytest.param(s.name, code, id=f"{s.name}:{code}") for s in SCENARIOS for code in ITEM_CODES]


@pytest.mark.parametrize(("scenario", "item"), CASES)
def test_no_item_is_suggested_beyond_what_the_labelled_history_shows(corpus, scenario, item):
    outcome = next(i for i in corpus[scenario].items if i.item == item)
    assert outcome.outcome not in (UNSUPPORTED, TOO_HIGH), (
        f"{item} suggested {outcome.seen.level if outcome.seen else '?'}: {outcome.seen.reason if outcome.seen else ''}"
        f" — label {outcome.label.expected}: {outcome.label.why}"
    )


@pytest.mark.parametrize("scenario", [s.name for s in SCENARIOS])
def test_every_automated_suggestion_cites_the_recurrence_behind_it(corpus, scenario):
    uncited = [
        (i.item, i.seen.reason)
        for i in corpus[scenario].items
        if i.seen and i.seen.suggests and i.seen.level == AUTOMATED and not cites_recurrence(i.seen.reason)
    ]
    assert not uncited


def test_most_items_the_corpus_supports_are_suggested(corpus):
    overall = totals(corpus.values())
    missed = [
        f"{s.scenario.name}:{i.item} ({i.label.expected})"
        for s in corpus.values()
        for i in s.items
        if i.label.passes and i.outcome != SUPPORTED
    ]
    assert overall.recall >= RECALL_TARGET, f"recall {overall.recall:.0%}; not suggested: {', '.join(missed)}"


def test_the_measure_counts_a_too_high_level_as_unsupported():
    from tests.mlflow.scenarios._kit import automated, manual, none
    from tests.mlflow.scenarios.harness import Seen, judge

    suggested_automated = Seen("infra-4", "pass", AUTOMATED, "approved on 3 of the last 3 versions, over 28 days")
    assert judge(manual("done once"), suggested_automated) == TOO_HIGH
    assert judge(automated("recurring"), suggested_automated) == SUPPORTED
    assert judge(automated("recurring"), Seen("infra-4", "pass", "manual", "approved")) == SUPPORTED
    assert judge(none("nothing"), Seen("infra-4", "pass", "manual", "approved")) == UNSUPPORTED
    assert not cites_recurrence("No NaN or infinite values in the metrics of the 8 most recent runs.")
    assert not cites_recurrence("The serving version is 0 days old (limit 30).")
    assert cites_recurrence("validated before serving on 5 of the last 5 versions, over 63 days")
    assert cites_recurrence("runs launched by a pipeline (mlflow.source.type JOB)")
