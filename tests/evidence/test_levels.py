"""evidence.levels on plain data: when observations justify manual, automated or nothing."""

from __future__ import annotations

from evidence.levels import AUTOMATED, MANUAL, NONE, Observation, Policy, level

DAY = 86_400_000
NOW = 1_800_000_000_000
POLICY = Policy(recurrence_count=3, recurrence_days=14, fresh_days=90, pipeline_runs=2)


def seen(days_ago: float, subject: str, by_system: bool = False, how: str = "") -> Observation:
    return Observation(when_ms=int(NOW - days_ago * DAY), subject=subject, by_system=by_system, how=how)


def test_no_observation_suggests_nothing():
    assert level([], now_ms=NOW, policy=POLICY).status == NONE


def test_one_observation_is_manual():
    found = level([seen(1, "v1")], now_ms=NOW, policy=POLICY)
    assert found.status == MANUAL
    assert "1 of 1 versions" in found.reason


def test_the_last_three_versions_over_two_months_are_automated_and_the_reason_cites_them():
    observations = [seen(70, "v1"), seen(63, "v2"), seen(30, "v3"), seen(0, "v4"), seen(0.5, "v5")]
    series = ["v1", "v2", "v3", "v4", "v5"]
    found = level(observations, now_ms=NOW, series=series, policy=POLICY)
    assert found.status == AUTOMATED
    assert found.reason == "Automated: present on 3 of the last 3 versions, over 30 days."


def test_three_versions_in_one_afternoon_are_manual():
    observations = [seen(1.0, "v1"), seen(0.9, "v2"), seen(0.8, "v3")]
    assert level(observations, now_ms=NOW, policy=POLICY).status == MANUAL


def test_a_gap_in_the_last_k_versions_keeps_it_manual():
    observations = [seen(60, "v1"), seen(40, "v2"), seen(1, "v4")]
    found = level(observations, now_ms=NOW, series=["v1", "v2", "v3", "v4"], policy=POLICY)
    assert found.status == MANUAL


def test_pipeline_runs_over_two_weeks_are_automated():
    observations = [seen(20, "r1", True, "mlflow.source.type=JOB"), seen(2, "r2", True, "mlflow.source.type=JOB")]
    found = level(observations, now_ms=NOW, kind="runs", policy=POLICY)
    assert found.status == AUTOMATED
    assert "mlflow.source.type=JOB" in found.reason


def test_a_single_pipeline_run_is_manual():
    found = level([seen(2, "r1", True, "ci")], now_ms=NOW, kind="runs", policy=POLICY)
    assert found.status == MANUAL


def test_every_one_of_two_versions_over_three_weeks_is_automated():
    found = level([seen(21, "v1"), seen(0, "v2")], now_ms=NOW, series=["v1", "v2"], policy=POLICY)
    assert found.status == AUTOMATED and "every one of the 2" in found.reason


def test_a_recurrence_that_stopped_long_ago_is_manual():
    observations = [seen(300, "v1"), seen(250, "v2"), seen(200, "v3")]
    found = level(observations, now_ms=NOW, policy=POLICY)
    assert found.status == MANUAL and "200 days ago" in found.reason


def test_k_and_d_come_from_the_settings(settings):
    settings.MLAUDIT_EVIDENCE_RECURRENCE_COUNT = 2
    settings.MLAUDIT_EVIDENCE_RECURRENCE_DAYS = 1
    found = level([seen(3, "v1"), seen(1, "v2")], now_ms=NOW, series=["v0", "v1", "v2"])
    assert found.status == AUTOMATED and "2 of the last 2" in found.reason


def test_the_reason_can_be_retold_in_each_language():
    found = level([seen(1, "v1")], now_ms=NOW, policy=POLICY)
    assert found.reason.in_language("en") == str(found.reason)
