"""The staleness rule on plain values: which answers no longer hold, why, and what the evidence still supports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import translation

from evidence.staleness import Basis, Latest, Windows, assess

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
WINDOWS = Windows(automated_days=30, manual_days=90)


def basis(status: str = "automated", *, days_ago: float = 1, version: int | None = 12) -> Basis:
    return Basis("infra-4", "mlflow", status, NOW - timedelta(days=days_ago), "churn", "champion", version)


def latest(result: str = "pass", level: str = "automated", *, days_ago: float = 1, version: int | None = 12) -> Latest:
    return Latest(result, level if result == "pass" else "", NOW - timedelta(days=days_ago), version)


def test_an_answer_whose_evidence_still_holds_is_not_stale():
    found = assess(basis(), latest(), serving_now=12, windows=WINDOWS, now=NOW)
    assert not found.stale and found.supported == "automated" and found.reason == ""


def test_a_moved_alias_names_both_versions():
    found = assess(basis(), latest(version=13), serving_now=13, windows=WINDOWS, now=NOW)
    assert found.reason == "answered for champion v12; champion is now v13"
    # The finding about v13 passes at automated: the live score keeps the point.
    assert found.supported == "automated"


def test_a_finding_about_a_version_that_no_longer_serves_supports_nothing():
    found = assess(basis(), latest(version=12), serving_now=13, windows=WINDOWS, now=NOW)
    assert found.stale and found.supported == "not_done"


def test_a_deleted_alias_says_so():
    found = assess(basis(), latest(), serving_now=None, windows=WINDOWS, now=NOW)
    assert found.reason.startswith("answered for champion v12; champion now points to no version")


def test_an_answer_not_confirmed_within_its_window_is_stale_with_the_days_and_the_window():
    found = assess(basis(days_ago=41), latest(days_ago=41), serving_now=12, windows=WINDOWS, now=NOW)
    assert found.reason == "last confirmed 41 days ago (window: 30 days)"
    assert found.supported == "manual"  # too old for automated, recent enough for manual
    older = assess(basis(days_ago=91), latest(days_ago=91), serving_now=12, windows=WINDOWS, now=NOW)
    assert older.supported == "not_done"


def test_a_later_confirmation_by_the_source_keeps_the_answer_fresh():
    found = assess(basis(days_ago=200), latest(days_ago=2), serving_now=12, windows=WINDOWS, now=NOW)
    assert not found.stale and found.confirmed_at == NOW - timedelta(days=2)


def test_the_manual_window_applies_to_a_manual_answer():
    found = assess(
        basis("manual", days_ago=45), latest(level="manual", days_ago=45), serving_now=12, windows=WINDOWS, now=NOW
    )
    assert not found.stale
    assert assess(basis("manual", days_ago=95), None, serving_now=12, windows=WINDOWS, now=NOW).stale


def test_failing_or_weaker_latest_evidence_makes_the_answer_stale():
    failing = assess(basis(), latest("fail"), serving_now=12, windows=WINDOWS, now=NOW)
    assert failing.reason == "latest evidence no longer supports automated" and failing.supported == "not_done"
    weaker = assess(basis(), latest(level="manual"), serving_now=12, windows=WINDOWS, now=NOW)
    assert weaker.reason == "latest evidence supports only manual, not automated" and weaker.supported == "manual"
    gone = assess(basis(), None, serving_now=12, windows=WINDOWS, now=NOW, source_label="MLflow")
    assert gone.reason == "no current evidence from MLflow for this item" and gone.supported == "not_done"


def test_what_the_evidence_still_supports_never_exceeds_the_answer():
    found = assess(basis("manual"), latest(version=13), serving_now=13, windows=WINDOWS, now=NOW)
    assert found.stale and found.supported == "manual"


def test_a_source_without_model_versions_is_judged_on_freshness_and_results_only():
    report = Basis("data-1", "junit", "manual", NOW - timedelta(days=3))
    assert not assess(report, latest(level="manual", version=None), serving_now=None, windows=WINDOWS, now=NOW).stale


def test_several_reasons_are_all_given_and_retold_in_spanish():
    found = assess(
        basis(days_ago=40), latest("fail", days_ago=40, version=13), serving_now=13, windows=WINDOWS, now=NOW
    )
    assert len(found.reasons) == 3
    spanish = found.reason_in("es")
    assert spanish != found.reason and "v12" in spanish and "v13" in spanish
    with translation.override("es"):
        again = assess(basis(), latest(version=13), serving_now=13, windows=WINDOWS, now=NOW)
    assert again.reason == again.reason_in("es")
