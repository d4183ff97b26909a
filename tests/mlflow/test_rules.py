"""Each evidence rule on hand-made facts: what passes, what fails, what cannot be judged."""

from __future__ import annotations

import math

import pytest

from integrations.mlflow.facts import AliasSighting, DatasetFact, RunFact, Snapshot, VersionFact
from integrations.mlflow.rules import RULES

DAY = 86_400_000
NOW = 1_800_000_000_000
D = DatasetFact(name="train", digest="abc", context="training", schema='{"mlflow_colspec": []}')
COMMIT = {"mlflow.source.git.commit": "deadbeef", "git_dirty": "false"}
SIGNATURE = {"signature": {"inputs": '[{"name": "age", "type": "double"}, {"name": "plan", "type": "string"}]'}}


def run(run_id: str, **kw) -> RunFact:
    kw.setdefault("datasets", (D,))
    kw.setdefault("start_time", NOW - DAY)
    kw.setdefault("end_time", NOW - DAY + 1000)
    return RunFact(run_id=run_id, experiment_id="1", **kw)


def version(number: int, run_id: str, aliases=(), **kw) -> VersionFact:
    kw.setdefault("created_ms", NOW - 2 * DAY)
    kw.setdefault("artifacts_present", True)
    return VersionFact(model_name="m", version=number, run_id=run_id, aliases=tuple(aliases), **kw)


def snap(runs, versions, history=None, **thresholds) -> Snapshot:
    history = history or [AliasSighting(NOW, {"m": {a: v.version for v in versions for a in v.aliases}})]
    return Snapshot(
        runs=runs, versions=versions, alias_history=history, now_ms=NOW, ui_base="http://ui", thresholds=thresholds
    )


def check(item: str, snapshot: Snapshot) -> str:
    return RULES[item].check(snapshot).result


def released(**v2_metrics):
    """v1 served first (seen by mlaudit), then v2 was challenger, then v2 became champion."""
    runs = [
        run("r1", metrics={"accuracy": 0.80, "latency_ms": 10.0}, tags=COMMIT),
        run("r2", metrics={"accuracy": 0.85, "latency_ms": 10.5, "val_accuracy": 0.84, **v2_metrics}, tags=COMMIT),
    ]
    versions = [version(1, "r1", ["previous"]), version(2, "r2", ["champion"], mlmodel=SIGNATURE)]
    history = [
        AliasSighting(NOW - 3 * DAY, {"m": {"champion": 1, "challenger": 2}}),
        AliasSighting(NOW - DAY // 2, {"m": {"champion": 2, "previous": 1}}),
    ]
    return runs, versions, history


def test_thirteen_items_have_a_registered_rule_with_advice():
    assert len(RULES) == 13
    assert all(str(rule.how_to) for rule in RULES.values())


def test_every_rule_is_unknown_or_fails_without_any_facts():
    empty = snap([], [])
    for item, rule in RULES.items():
        assert rule.check(empty).result in ("unknown", "fail"), item


def test_data_1_needs_named_typed_inputs_and_a_dataset_schema():
    good = snap([run("r")], [version(1, "r", ["champion"], mlmodel=SIGNATURE)])
    assert check("data-1", good) == "pass"
    tensor = {"signature": {"inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float32"}}]'}}
    assert check("data-1", snap([run("r")], [version(1, "r", ["champion"], mlmodel=tensor)])) == "fail"
    no_schema = snap(
        [run("r", datasets=(DatasetFact("t", "abc"),))], [version(1, "r", ["champion"], mlmodel=SIGNATURE)]
    )
    assert check("data-1", no_schema) == "fail"
    assert check("data-1", snap([run("r")], [version(1, "r", ["champion"])])) == "unknown"


def test_data_1_falls_back_to_the_production_stage_on_older_servers():
    staged = snap([run("r")], [version(1, "r", current_stage="Production", mlmodel=SIGNATURE)])
    assert check("data-1", staged) == "pass"


def test_model_1_wants_a_commit_and_a_clean_tree():
    assert check("model-1", snap([run("r", tags=COMMIT)], [])) == "pass"
    assert check("model-1", snap([run("r", tags={"mlflow.source.git.commit": "x"})], [])) == "fail"
    assert check("model-1", snap([run("r", tags={"mlflow.source.git.commit": "x", "git_dirty": "true"})], [])) == "fail"
    assert check("model-1", snap([run("r")], [])) == "fail"


def test_model_3_accepts_a_parent_with_children_or_varied_params_on_one_dataset():
    children = [run(f"c{i}", parent_run_id="p") for i in range(3)]
    assert check("model-3", snap([run("p"), *children], [])) == "pass"
    varied = [run(f"r{i}", params={"lr": str(i)}) for i in range(3)]
    assert check("model-3", snap(varied, [])) == "pass"
    same = [run(f"r{i}", params={"lr": "1"}) for i in range(3)]
    assert check("model-3", snap(same, [])) == "fail"


def test_model_5_compares_the_serving_run_with_a_baseline_on_the_same_dataset():
    runs, versions, history = released()
    baseline = run("b", metrics={"accuracy": 0.6}, tags={"baseline": "true"})
    assert check("model-5", snap([*runs, baseline], versions, history)) == "pass"
    stronger = run("b", metrics={"accuracy": 0.9}, tags={"baseline": "true"})
    assert check("model-5", snap([*runs, stronger], versions, history)) == "fail"
    elsewhere = run("b", metrics={"accuracy": 0.6}, tags={"baseline": "true"}, datasets=(DatasetFact("x", "zzz"),))
    assert check("model-5", snap([*runs, elsewhere], versions, history)) == "fail"


def test_model_6_checks_every_slice_against_the_overall_metric():
    runs, versions, history = released(**{"slice/a/accuracy": 0.84, "slice/b/accuracy": 0.83})
    assert check("model-6", snap(runs, versions, history)) == "pass"
    runs, versions, history = released(**{"slice/a/accuracy": 0.84, "slice/b/accuracy": 0.5})
    verdict = RULES["model-6"].check(snap(runs, versions, history))
    assert verdict.result == "fail" and "b 0.5" in verdict.reason
    runs, versions, history = released()
    assert check("model-6", snap(runs, versions, history)) == "fail"


def test_infra_1_needs_repeated_runs_that_agree_within_the_tolerance():
    same = {"params": {"lr": "1"}, "tags": COMMIT}
    agree = [run("a", metrics={"accuracy": 0.800}, **same), run("b", metrics={"accuracy": 0.801}, **same)]
    assert check("infra-1", snap(agree, [])) == "pass"
    disagree = [run("a", metrics={"accuracy": 0.80}, **same), run("b", metrics={"accuracy": 0.70}, **same)]
    assert check("infra-1", snap(disagree, [])) == "fail"
    assert check("infra-1", snap(disagree, [], reproducibility_tolerance=0.2)) == "pass"
    assert check("infra-1", snap([agree[0]], [])) == "fail"


def test_infra_4_accepts_validation_before_serving_or_an_approval_tag():
    runs, versions, history = released()
    assert check("infra-4", snap(runs, versions, history)) == "pass"
    late = [runs[0], run("r2", metrics={"val_accuracy": 0.8}, end_time=NOW)]
    assert check("infra-4", snap(late, versions, history)) == "fail"
    unvalidated = [runs[0], run("r2", metrics={"accuracy": 0.8})]
    assert check("infra-4", snap(unvalidated, versions, history)) == "fail"
    approved = [versions[0], version(2, "r2", ["champion"], tags={"approved": "true"})]
    assert check("infra-4", snap(unvalidated, approved, history)) == "pass"


def test_infra_6_wants_a_challenger_alias_before_serving():
    runs, versions, history = released()
    assert check("infra-6", snap(runs, versions, history)) == "pass"
    no_canary = [AliasSighting(NOW - 3 * DAY, {"m": {"champion": 1}}), history[1]]
    assert check("infra-6", snap(runs, versions, no_canary)) == "fail"
    first_sync = [history[1]]
    assert check("infra-6", snap(runs, versions, first_sync)) == "unknown"


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
    rolled_back = [*history, *moves]
    assert check("infra-7", snap(runs, no_alias, rolled_back)) == "pass"


def test_monitoring_4_flags_a_serving_version_older_than_the_threshold():
    fresh = snap([run("r")], [version(1, "r", ["champion"], created_ms=NOW - 10 * DAY)])
    assert check("monitoring-4", fresh) == "pass"
    stale = snap([run("r")], [version(1, "r", ["champion"], created_ms=NOW - 45 * DAY)])
    assert check("monitoring-4", stale) == "fail"
    assert (
        check(
            "monitoring-4",
            snap([run("r")], [version(1, "r", ["champion"], created_ms=NOW - 45 * DAY)], max_serving_age_days=60),
        )
        == "pass"
    )


def test_monitoring_5_finds_nan_and_infinity_in_latest_values_and_histories():
    assert check("monitoring-5", snap([run("a", metrics={"loss": 0.1})], [])) == "pass"
    assert check("monitoring-5", snap([run("a", metrics={"loss": math.nan})], [])) == "fail"
    assert check("monitoring-5", snap([run("a", metrics={"loss": math.inf})], [])) == "fail"
    history_only = Snapshot(
        runs=[run("a", metrics={"loss": 0.1})], versions=[], alias_history=[], now_ms=NOW, ui_base="http://ui",
        histories_checked=("a",), bad_histories={"a": ["loss"]},
    )  # fmt: skip
    assert check("monitoring-5", history_only) == "fail"


def test_monitoring_6_allows_latency_within_the_tolerance_only():
    runs, versions, history = released()
    assert check("monitoring-6", snap(runs, versions, history)) == "pass"
    runs, versions, history = released(latency_ms=20.0)
    assert check("monitoring-6", snap(runs, versions, history)) == "fail"


def test_monitoring_7_compares_quality_with_the_previous_version_on_the_same_dataset():
    runs, versions, history = released()
    assert check("monitoring-7", snap(runs, versions, history)) == "pass"
    runs, versions, history = released(accuracy=0.7)
    assert check("monitoring-7", snap(runs, versions, history)) == "fail"
    other_data = [run("r1", metrics={"accuracy": 0.8}, datasets=(DatasetFact("x", "zzz"),)), runs[1]]
    assert check("monitoring-7", snap(other_data, versions, history)) == "unknown"


@pytest.mark.parametrize("item", sorted(RULES))
def test_every_link_points_into_the_mlflow_ui(item):
    runs, versions, history = released(**{"slice/a/accuracy": 0.84})
    verdict = RULES[item].check(snap(runs, versions, history))
    assert all(link.startswith("http://ui/#/") for link in verdict.links)


def test_a_reason_is_retold_in_another_language_with_the_same_values():
    from django.utils import translation

    from integrations.mlflow.rulebook import Wording, _

    with translation.override("en"):
        reason = _("Signature with {count} named, typed inputs.").format(count=2)

    assert isinstance(reason, Wording)
    assert reason == "Signature with 2 named, typed inputs."
    assert reason.in_language("es") == "Firma con 2 entradas con nombre y tipo."
    assert reason.in_language("en") == reason


def test_a_reason_refuses_positional_values_it_could_not_retell():
    from integrations.mlflow.rulebook import _

    with pytest.raises(TypeError):
        _("Run {} records no git commit.").format("abc")
