"""Each evidence rule on hand-made facts shaped like what MLflow records: what passes, at which level,
what fails, and what mlaudit only observes (shown as a fact, never as a pass)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from integrations.mlflow.facts import AliasSighting, DatasetFact, RunFact, Snapshot, VersionFact, split_metric
from integrations.mlflow.ruleset import RULES

DAY = 86_400_000
NOW = 1_800_000_000_000
TRAIN = DatasetFact(name="train", digest="abc", context="training", schema='{"mlflow_colspec": []}')
TEST = DatasetFact(name="test", digest="def", context="test_")
COMMIT = {"mlflow.source.git.commit": "deadbeef"}
JOB = {**COMMIT, "mlflow.source.type": "JOB"}
EVALUATED = {"test_example_count": 100.0, "test_roc_auc": 0.85, "test_f1_score": 0.7}


def run(run_id: str, days_ago: float = 1, **kw) -> RunFact:
    kw.setdefault("datasets", (TRAIN,))
    kw.setdefault("params", {"lr": "0.1"})
    return RunFact(
        run_id=run_id, experiment_id="1", start_time=NOW - int(days_ago * DAY),
        end_time=NOW - int(days_ago * DAY) + 1000, **kw,
    )  # fmt: skip


def version(number: int, run_id: str, aliases=(), **kw) -> VersionFact:
    kw.setdefault("created_ms", NOW - 2 * DAY)
    kw.setdefault("artifacts_present", True)
    return VersionFact(model_name="m", version=number, run_id=run_id, aliases=tuple(aliases), **kw)


def snap(runs, versions, history=None, experiments=None, **thresholds) -> Snapshot:
    history = history or [AliasSighting(NOW, {"m": {a: v.version for v in versions for a in v.aliases}})]
    return Snapshot(
        runs=runs, versions=versions, alias_history=history, now_ms=NOW, ui_base="http://ui", thresholds=thresholds,
        experiment_names=experiments or {},
    )  # fmt: skip


def verdict(item: str, snapshot: Snapshot):
    return RULES[item].check(snapshot)


def check(item: str, snapshot: Snapshot) -> str:
    return verdict(item, snapshot).result


def released(**v2_metrics):
    """v1 served first (seen by mlaudit), then v2 was challenger, then v2 became champion."""
    runs = [
        run("r1", 10, metrics={**EVALUATED, "test_roc_auc": 0.80, "latency_ms": 10.0}, tags=COMMIT),
        run("r2", 3, metrics={**EVALUATED, "latency_ms": 10.5, **v2_metrics}, tags=COMMIT),
    ]
    versions = [version(1, "r1", ["previous"]), version(2, "r2", ["champion"])]
    history = [
        AliasSighting(NOW - 3 * DAY, {"m": {"champion": 1, "challenger": 2}}),
        AliasSighting(NOW - DAY // 2, {"m": {"champion": 2, "previous": 1}}),
    ]
    return runs, versions, history


def weekly(n: int, *, tags=COMMIT, metrics=None, **run_kw):
    """n versions, one a week, the newest serving: what a scheduled retraining leaves behind."""
    runs = [run(f"r{i}", 7 * (n - i), tags=tags, metrics=metrics or EVALUATED, **run_kw) for i in range(1, n + 1)]
    versions = [version(i, f"r{i}", ["champion"] if i == n else []) for i in range(1, n + 1)]
    return runs, versions


def test_at_least_sixteen_items_have_a_rule_that_can_pass_and_each_says_what_it_reads():
    assert len(RULES) >= 16
    assert all(str(rule.how_to) and rule.example for rule in RULES.values())


def test_every_rule_is_unknown_or_fails_without_any_facts():
    empty = snap([], [])
    for item, rule in RULES.items():
        assert rule.check(empty).result in ("unknown", "fail"), item


def test_metric_names_are_split_into_evaluate_prefix_and_standard_name():
    assert split_metric("val_roc_auc") == ("val_", "roc_auc")
    assert split_metric("root_mean_squared_error") == ("", "root_mean_squared_error")
    assert split_metric("slice_large_f1_score") == ("slice_large_", "f1_score")
    assert split_metric("tf1") is None and split_metric("latency_ms") is None


def test_a_pass_on_one_version_suggests_manual_and_says_why():
    runs = [run("r", tags=COMMIT)]
    result = verdict("model-1", snap(runs, [version(1, "r", ["champion"])]))
    assert (result.result, result.suggested) == ("pass", "manual")
    assert "1 of 1 versions" in result.level_reason


def test_a_check_on_the_last_three_weekly_versions_suggests_automated_citing_them():
    runs, versions = weekly(5)
    result = verdict("model-1", snap(runs, versions))
    assert (result.result, result.suggested) == ("pass", "automated")
    assert result.level_reason == "Automated: present on 3 of the last 3 versions, over 14 days."


def test_data_1_wants_written_expectations_not_types_only_signature_and_inferred_schema():
    plain = snap([run("r", artifacts=("model", "estimator.html"))], [version(1, "r", ["champion"])])
    assert check("data-1", plain) == "fail"
    written = snap([run("r", artifacts=("data_expectations.json",))], [version(1, "r", ["champion"])])
    assert check("data-1", written) == "pass"
    unlisted = snap([run("r")], [version(1, "r", ["champion"])])
    assert check("data-1", unlisted) == "unknown"


def test_data_2_wants_feature_importance_measured_in_the_serving_run():
    assert (
        check(
            "data-2", snap([run("r", artifacts=("feature_importance_weight.json",))], [version(1, "r", ["champion"])])
        )
        == "pass"
    )
    assert check("data-2", snap([run("r", artifacts=())], [version(1, "r", ["champion"])])) == "fail"


def test_model_1_needs_only_the_commit_mlflow_records_and_fails_a_dirty_tree():
    assert check("model-1", snap([run("r", tags=COMMIT)], [version(1, "r", ["champion"])])) == "pass"
    assert check("model-1", snap([run("r")], [version(1, "r", ["champion"])])) == "fail"
    dirty = {**COMMIT, "git_dirty": "true"}
    assert check("model-1", snap([run("r", tags=dirty)], [version(1, "r", ["champion"])])) == "fail"


def test_model_3_counts_trial_children_and_top_level_sweeps_but_not_nested_evaluations():
    trials = [run(f"c{i}", parent_run_id="p", params={"lr": str(i)}) for i in range(3)]
    assert check("model-3", snap([run("p"), *trials], [])) == "pass"
    evaluations = [run(f"e{i}", parent_run_id="p", params={}, metrics=EVALUATED) for i in range(5)]
    assert check("model-3", snap([run("p"), *evaluations], [])) == "fail"
    top_level = [run(f"r{i}", params={"lr": str(i)}) for i in range(3)]
    assert check("model-3", snap(top_level, [])) == "pass"
    same = [run(f"r{i}", params={"lr": "1"}) for i in range(3)]
    assert check("model-3", snap(same, [])) == "fail"


def test_model_5_compares_the_serving_run_with_a_baseline_on_a_shared_dataset():
    runs, versions, history = released()
    majority = {"strategy": "most_frequent"}
    baseline = run("b", name="baseline", params=majority, metrics={**EVALUATED, "test_roc_auc": 0.6})
    assert check("model-5", snap([*runs, baseline], versions, history)) == "pass"
    stronger = run("b", name="dummy-majority", params=majority, metrics={**EVALUATED, "test_roc_auc": 0.95})
    assert check("model-5", snap([*runs, stronger], versions, history)) == "fail"
    elsewhere = run("b", name="baseline", metrics=EVALUATED, datasets=(DatasetFact("x", "zzz"),))
    assert check("model-5", snap([*runs, elsewhere], versions, history)) == "fail"


def test_model_6_reads_evaluate_slice_prefixes_and_checks_every_slice():
    runs, versions, history = released(slice_large_roc_auc=0.84, slice_small_roc_auc=0.83)
    assert check("model-6", snap(runs, versions, history)) == "pass"
    runs, versions, history = released(slice_large_roc_auc=0.84, slice_small_roc_auc=0.5)
    result = verdict("model-6", snap(runs, versions, history))
    assert result.result == "fail" and "small 0.5" in result.reason
    runs, versions, history = released(**{"slice/mobile/roc_auc": 0.85})
    assert check("model-6", snap(runs, versions, history)) == "pass"
    runs, versions, history = released()
    assert check("model-6", snap(runs, versions, history)) == "fail"


def test_model_7_wants_quality_per_group_of_people():
    runs, versions, history = released(slice_gender_f_roc_auc=0.84)
    assert check("model-7", snap(runs, versions, history)) == "pass"
    runs, versions, history = released(slice_device_mobile_roc_auc=0.84)
    assert check("model-7", snap(runs, versions, history)) == "fail"


def test_infra_1_compares_repeated_trainings_on_every_shared_metric_and_ignores_evaluation_runs():
    agree = [run("a", metrics={"rmse": 0.800, "r2": 0.5}), run("b", metrics={"rmse": 0.801, "r2": 0.5})]
    assert check("infra-1", snap(agree, [])) == "pass"
    disagree = [run("a", metrics={"rmse": 0.80, "r2": 0.5}), run("b", metrics={"rmse": 0.80, "r2": 0.3})]
    assert check("infra-1", snap(disagree, [])) == "fail"
    assert check("infra-1", snap(disagree, [], reproducibility_tolerance=0.5)) == "pass"
    evaluations = [run(f"e{i}", params={}, metrics={"rmse": 0.8}) for i in range(3)]
    assert check("infra-1", snap(evaluations, [])) == "fail"


def test_infra_3_wants_an_end_to_end_test_run_and_not_the_production_retraining_job():
    # A weekly job that trains and registers is the pipeline running, not the pipeline tested.
    assert check("infra-3", snap([run("r", tags=JOB)], [version(1, "r", ["champion"])])) == "fail"
    assert check("infra-3", snap([run("r", tags=COMMIT)], [version(1, "r", ["champion"])])) == "fail"
    assert check("infra-3", snap([run("r", name="e2e-smoke")], [])) == "pass"
    smoke = run("s", name="", datasets=(TRAIN,))
    assert check("infra-3", snap([smoke], [], experiments={"1": "churn-integration"})) == "pass"
    # a run named "smoke" that read nothing and made no model is not a run of the pipeline
    assert check("infra-3", snap([run("x", name="smoke", datasets=())], [])) == "fail"


def test_infra_4_accepts_an_approving_validation_status_or_an_evaluate_result_not_autolog_val_metrics():
    autolog = [run("r", metrics={"val_loss": 0.3, "val_accuracy": 0.8}, tags={"mlflow.autologging": "keras"})]
    assert check("infra-4", snap(autolog, [version(1, "r", ["champion"])])) == "fail"
    approved = version(1, "r", ["champion"], tags={"validation_status": "approved"})
    assert check("infra-4", snap(autolog, [approved])) == "pass"
    pending = version(1, "r", ["champion"], tags={"validation_status": "pending"})
    assert check("infra-4", snap(autolog, [pending])) == "fail"
    assert check("infra-4", snap([run("r", metrics=EVALUATED)], [version(1, "r", ["champion"])])) == "pass"


def test_infra_4_fails_an_evaluation_made_only_after_the_version_served():
    runs, versions, history = released()
    late = [runs[0], run("r2", 0.1, metrics=EVALUATED)]
    assert check("infra-4", snap(late, versions, history)) == "fail"


def test_infra_6_needs_the_challenger_alias_on_the_version_before_the_champion_alias():
    runs, versions, history = released()
    assert check("infra-6", snap(runs, versions, history)) == "pass"
    no_canary = [AliasSighting(NOW - 3 * DAY, {"m": {"champion": 1}}), history[1]]
    assert check("infra-6", snap(runs, versions, no_canary)) == "fail"
    # challenger seen only together with, or after, champion is no canary
    same_time = [
        AliasSighting(NOW - 3 * DAY, {"m": {"champion": 1}}),
        AliasSighting(NOW, {"m": {"champion": 2, "challenger": 2}}),
    ]
    assert check("infra-6", snap(runs, versions, same_time)) == "fail"
    assert (
        check("infra-6", snap(runs, versions, [AliasSighting(NOW, {"m": {"champion": 2, "challenger": 2}})]))
        == "unknown"
    )


def test_infra_7_wants_previous_artifacts_and_a_rollback_path():
    runs, versions, history = released()
    assert check("infra-7", snap(runs, versions, history)) == "pass"
    gone = [version(1, "r1", ["previous"], artifacts_present=False), versions[1]]
    assert check("infra-7", snap(runs, gone, history)) == "fail"
    no_alias = [version(1, "r1"), versions[1]]
    assert check("infra-7", snap(runs, no_alias, history)) == "fail"
    moves = [
        AliasSighting(NOW - DAY // 4, {"m": {"champion": 1}}),
        AliasSighting(NOW - DAY // 8, {"m": {"champion": 2}}),
    ]
    assert check("infra-7", snap(runs, no_alias, [*history, *moves])) == "pass"


def test_monitoring_2_wants_logged_input_data_checks():
    checks = [run("d", metrics={"schema_violations": 0.0, "tenure_missing_rate": 0.01})]
    assert check("monitoring-2", snap(checks, [])) == "pass"
    assert check("monitoring-2", snap([run("r", metrics={"rmse": 1.0})], [])) == "fail"


def test_monitoring_4_shows_a_young_version_as_a_fact_and_passes_only_on_a_retraining_cadence():
    young = verdict("monitoring-4", snap([run("r")], [version(1, "r", ["champion"])]))
    assert young.result == "unknown" and young.reason.startswith("Observed:") and young.facts["age_days"] == 1.0
    runs, versions = weekly(4, tags=JOB)
    cadence = verdict("monitoring-4", snap(runs, versions))
    assert (cadence.result, cadence.suggested) == ("pass", "automated")
    assert "pipeline" in cadence.level_reason or "of the last" in cadence.level_reason
    two_hand_runs = [run("a", 9), run("b", 8)]
    pair = [version(1, "a"), version(2, "b", ["champion"])]
    assert check("monitoring-4", snap(two_hand_runs, pair)) == "unknown"


def test_monitoring_4_fails_when_the_cadence_stopped():
    runs = [run(f"r{i}", 100 - 7 * i) for i in range(4)]
    versions = [version(i + 1, f"r{i}", ["champion"] if i == 3 else []) for i in range(4)]
    assert check("monitoring-4", snap(runs, versions)) == "fail"


def test_monitoring_5_reports_what_mlaudit_saw_as_a_fact_and_passes_only_on_the_teams_checks():
    clean = verdict("monitoring-5", snap([run("a", metrics={"loss": 0.1})], []))
    assert clean.result == "unknown" and clean.reason.startswith("Observed:")
    nan = verdict("monitoring-5", snap([run("a", metrics={"loss": math.nan})], []))
    assert nan.result == "unknown" and nan.facts["non_finite"] == {"a": ["loss"]}
    assert check("monitoring-5", snap([run("a", metrics={"nan_count": 0.0})], [])) == "pass"


def test_monitoring_6_allows_latency_within_the_tolerance_only():
    runs, versions, history = released()
    assert check("monitoring-6", snap(runs, versions, history)) == "pass"
    runs, versions, history = released(latency_ms=20.0)
    assert check("monitoring-6", snap(runs, versions, history)) == "fail"


def test_monitoring_7_reads_backtest_experiments_not_offline_training_metrics():
    runs, versions, history = released()
    assert check("monitoring-7", snap(runs, versions, history)) == "fail"
    backtests = [
        RunFact(f"b{i}", "9", name=f"week-{i}", start_time=NOW - (3 - i) * DAY, params={}, metrics={"roc_auc": 0.84})
        for i in range(3)
    ]
    with_backtests = snap([*runs, *backtests], versions, history, experiments={"9": "churn-backtests"})
    assert check("monitoring-7", with_backtests) == "pass"
    falling = [*backtests[:2], RunFact("b9", "9", start_time=NOW, metrics={"roc_auc": 0.6})]
    assert (
        check("monitoring-7", snap([*runs, *falling], versions, history, experiments={"9": "churn-backtests"}))
        == "fail"
    )


def test_the_quality_metric_setting_overrides_the_detected_one():
    runs, versions, history = released(test_custom_gain=0.9)
    runs.append(
        run("b", name="baseline", params={"strategy": "prior"}, metrics={**EVALUATED, "test_custom_gain": 0.95})
    )
    assert check("model-5", snap(runs, versions, history)) == "pass"  # detected roc_auc: 0.85 vs 0.85
    assert check("model-5", snap(runs, versions, history, quality_metric="custom_gain")) == "fail"


@pytest.mark.parametrize("item", sorted(RULES))
def test_every_link_points_into_the_mlflow_ui(item):
    runs, versions, history = released(slice_a_roc_auc=0.84)
    result = verdict(item, snap(runs, versions, history))
    assert all(link.startswith("http://ui/#/") for link in result.links)


def test_a_reason_is_retold_in_another_language_with_the_same_values():
    from django.utils import translation

    from integrations.mlflow.rulebook import Wording, _

    with translation.override("en"):
        reason = _("Run {run} was trained from a dirty tree.").format(run="abc")

    assert isinstance(reason, Wording)
    assert reason == "Run abc was trained from a dirty tree."
    assert reason.in_language("en") == reason


def test_a_reason_refuses_positional_values_it_could_not_retell():
    from integrations.mlflow.rulebook import _

    with pytest.raises(TypeError):
        _("Run {} records no git commit.").format("abc")


def test_monitoring_4_by_hand_retraining_keeps_the_model_fresh_but_is_only_manual():
    runs, versions = weekly(4)  # four versions a week apart, trained from a laptop
    by_hand = verdict("monitoring-4", snap(runs, versions))
    assert (by_hand.result, by_hand.suggested) == ("pass", "manual")
    assert "by hand" in by_hand.level_reason


EVAL_ON_TRAIN = DatasetFact(name="dataset", digest="abc", context="test_")  # evaluate's input: the training rows


def test_infra_4_does_not_count_an_evaluate_on_the_training_data():
    on_train = run("r", metrics=EVALUATED, datasets=(TRAIN, EVAL_ON_TRAIN))
    assert check("infra-4", snap([on_train], [version(1, "r", ["champion"])])) == "fail"
    held_out = run("r", metrics=EVALUATED, datasets=(TRAIN, TEST))
    assert check("infra-4", snap([held_out], [version(1, "r", ["champion"])])) == "pass"


def test_infra_4_counts_the_versions_that_served_and_each_evaluated_before_it_served():
    # v1 served first and was only evaluated after; v2 and v3 were evaluated before serving; v4 never served.
    runs = [run(f"r{i}", 64 - 14 * i) for i in range(1, 5)]
    evals = [
        RunFact(f"e{i}", "1", start_time=NOW - days * DAY, params={}, metrics=EVALUATED, model_inputs=(f"m{i}",))
        for i, days in ((1, 40), (2, 34), (3, 20), (4, 5))
    ]
    versions = [version(i, f"r{i}", ["champion"] if i == 3 else [], model_id=f"m{i}") for i in range(1, 5)]
    history = [
        AliasSighting(NOW - 45 * DAY, {"m": {"champion": 1}}),
        AliasSighting(NOW - 31 * DAY, {"m": {"champion": 2}}),
        AliasSighting(NOW - 17 * DAY, {"m": {"champion": 3}}),
    ]
    found = verdict("infra-4", snap([*runs, *evals], versions, history))
    assert (found.result, found.suggested) == ("pass", "manual")
    assert "2 of 3 versions" in found.level_reason
    # the same evaluations, each before its version served: present on the last 3 serving versions
    evals[0] = replace(evals[0], start_time=NOW - 48 * DAY)
    found = verdict("infra-4", snap([*runs, *evals], versions, history))
    assert (found.result, found.suggested) == ("pass", "automated")
    assert "3 of the last 3 versions" in found.level_reason


def test_model_5_does_not_take_the_serving_configuration_renamed_baseline_for_a_simpler_model():
    runs, versions, history = released()
    same = run("b", 4, name="baseline", metrics={**EVALUATED, "test_roc_auc": 0.7}, datasets=(TRAIN, TEST))
    assert check("model-5", snap([*runs, same], versions, history)) == "fail"
    simpler = run("b", 4, name="baseline", params={"strategy": "prior"}, metrics={**EVALUATED, "test_roc_auc": 0.7},
                  datasets=(TRAIN, TEST))  # fmt: skip
    assert check("model-5", snap([*runs, simpler], versions, history)) == "pass"


def test_monitoring_7_does_not_count_re_scoring_the_model_on_its_training_data():
    runs, versions, history = released()
    on_train = [
        RunFact(f"b{i}", "9", start_time=NOW - (3 - i) * DAY, metrics={"roc_auc": 0.84}, datasets=(TRAIN,))
        for i in range(3)
    ]
    assert check("monitoring-7", snap([*runs, *on_train], versions, history, experiments={"9": "monitoring"})) == "fail"
    served = [replace(r, datasets=(DatasetFact("week", f"w{i}", ""),)) for i, r in enumerate(on_train)]
    assert check("monitoring-7", snap([*runs, *served], versions, history, experiments={"9": "monitoring"})) == "pass"
