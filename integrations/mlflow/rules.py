"""Evidence rules: one small pure function per rubric item, over the synced facts (facts.Snapshot).

Each returns a Verdict: pass, fail or unknown, a one-line reason, the facts it used and links into the
MLflow UI. "fail" means the evidence is missing or contradicts the item; "unknown" means the facts do
not allow a judgement (for instance nothing is serving yet).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils.translation import gettext_lazy

from integrations.mlflow.facts import (
    GIT_COMMIT_TAG,
    RunFact,
    Snapshot,
    is_false,
    is_true,
    parse_signature_inputs,
)
from integrations.mlflow.rulebook import (
    FAIL,
    PASS,
    RULES,
    UNKNOWN,
    Rule,
    Verdict,
    _,
    at_least_as_good,
    evaluate,
    no_serving,
    rule,
    serving_and_run,
)


@rule(
    "data-1",
    gettext_lazy(
        "Log the model with a signature (mlflow.models.infer_signature) and the training data with mlflow.log_input."
    ),
)
def serving_model_has_signature(s: Snapshot) -> Verdict:
    serving = s.serving()
    if serving is None:
        return no_serving(s)
    links: tuple[str, ...] = (s.version_link(serving),)
    if serving.mlmodel is None:
        return Verdict(UNKNOWN, _("The serving version's MLmodel file could not be read."), links=links)
    inputs = parse_signature_inputs(serving.mlmodel)
    if not inputs:
        return Verdict(
            FAIL,
            _("{model} v{version} has no input signature.").format(model=serving.model_name, version=serving.version),
            links=links,
        )
    unnamed = [col for col in inputs if not col.get("name") or not col.get("type")]
    facts: dict[str, Any] = {"inputs": [f"{c.get('name')}:{c.get('type')}" for c in inputs][:50]}
    if unnamed:
        return Verdict(
            FAIL, _("{count} signature inputs lack a name or a type.").format(count=len(unnamed)), facts, links
        )
    run = s.run(serving.run_id)
    if run is not None:
        links += (s.run_link(run),)
        schemas = [d for d in run.training_datasets if d.schema]
        facts["datasets"] = [d.name for d in run.training_datasets]
        if not schemas:
            return Verdict(
                FAIL, _("The signature is typed, but the training run logged no dataset with a schema."), facts, links
            )
    return Verdict(PASS, _("Signature with {count} named, typed inputs.").format(count=len(inputs)), facts, links)


@rule(
    "model-1",
    gettext_lazy(
        "Train from a git checkout (MLflow then tags mlflow.source.git.commit) "
        "and tag the run git_dirty=false when the tree is clean."
    ),
)
def runs_carry_provenance(s: Snapshot) -> Verdict:
    serving, run, _missing = serving_and_run(s)
    run = run or s.latest_finished_run()
    if run is None:
        return Verdict(UNKNOWN, _("No finished runs were synced."))
    links = (s.run_link(run),) + ((s.version_link(serving),) if serving else ())
    with_commit = sum(1 for r in s.runs if r.tags.get(GIT_COMMIT_TAG))
    facts = {"run": run.run_id, "runs_with_commit": with_commit, "runs": len(s.runs)}
    commit = run.tags.get(GIT_COMMIT_TAG, "")
    if not commit:
        return Verdict(FAIL, _("Run {run} records no git commit.").format(run=run.run_id[:8]), facts, links)
    facts["commit"] = commit
    dirty = [run.tags[t] for t in s.t("git_dirty_tags") if t in run.tags]
    if not dirty:
        return Verdict(
            FAIL,
            _("Run {run} has commit {commit} but does not record a clean tree.").format(
                run=run.run_id[:8], commit=commit[:10]
            ),
            facts,
            links,
        )
    if not all(is_false(value) for value in dirty):
        return Verdict(FAIL, _("Run {run} was trained from a dirty tree.").format(run=run.run_id[:8]), facts, links)
    return Verdict(
        PASS,
        _("Run {run} was trained from clean commit {commit}.").format(run=run.run_id[:8], commit=commit[:10]),
        facts,
        links,
    )


@rule(
    "model-3",
    gettext_lazy("Log sweeps as child runs of one parent run, or vary params across runs on the same dataset."),
)
def tuning_sweep_exists(s: Snapshot) -> Verdict:
    if not s.runs:
        return Verdict(UNKNOWN, _("No runs were synced."))
    minimum = int(s.t("min_sweep_runs"))
    children: dict[str, list[RunFact]] = defaultdict(list)
    for run in s.runs:
        if run.parent_run_id:
            children[run.parent_run_id].append(run)
    parent_id, kids = max(children.items(), key=lambda kv: len(kv[1]), default=("", []))
    if len(kids) >= minimum:
        parent = s.run(parent_id)
        links = tuple(s.run_link(r) for r in ([parent] if parent else []) + kids[:3])
        return Verdict(
            PASS,
            _("Parent run {parent} has {children} child runs.").format(parent=parent_id[:8], children=len(kids)),
            {"parent": parent_id, "children": len(kids)},
            links,
        )
    by_dataset: dict[frozenset[str], list[RunFact]] = defaultdict(list)
    for run in s.runs:
        if run.dataset_digests:
            by_dataset[run.dataset_digests].append(run)
    for digests, group in by_dataset.items():
        settings_tried = {tuple(sorted(r.params.items())) for r in group if r.params}
        if len(settings_tried) >= minimum:
            links = tuple(s.run_link(r) for r in group[:3])
            return Verdict(
                PASS,
                _("{count} parameter settings were tried on one dataset.").format(count=len(settings_tried)),
                {"datasets": sorted(digests), "settings": len(settings_tried)},
                links,
            )
    return Verdict(
        FAIL,
        _("No parent run with {minimum}+ children and no {minimum}+ parameter settings on one dataset.").format(
            minimum=minimum
        ),
        {"largest_sweep": len(kids)},
    )


@rule(
    "model-5",
    gettext_lazy("Tag a simple model's run baseline=true, log it on the same dataset and log the same quality metric."),
)
def baseline_compared(s: Snapshot) -> Verdict:
    serving, run, missing = serving_and_run(s)
    if missing or serving is None or run is None:
        return missing or no_serving(s)
    metric = s.t("quality_metric")
    baselines = [
        r
        for r in s.runs
        if any(is_true(r.tags.get(tag, "")) for tag in s.t("baseline_tags")) and r.dataset_digests & run.dataset_digests
    ]
    links: tuple[str, ...] = (s.version_link(serving), s.run_link(run))
    if not baselines:
        return Verdict(
            FAIL, _("No run tagged baseline=true on the serving model's dataset."), {"metric": metric}, links
        )
    baseline = max(baselines, key=lambda r: r.start_time or 0)
    links += (s.run_link(baseline),)
    if metric not in run.metrics or metric not in baseline.metrics:
        return Verdict(
            FAIL,
            _("The baseline or the serving run lacks the metric “{metric}”.").format(metric=metric),
            {"baseline": baseline.run_id},
            links,
        )
    ours, theirs = run.metrics[metric], baseline.metrics[metric]
    facts = {"metric": metric, "serving": ours, "baseline": theirs, "baseline_run": baseline.run_id}
    if at_least_as_good(s, ours, theirs, 0.0):
        return Verdict(
            PASS,
            _("{metric}: serving {serving_value} vs baseline {baseline_value}.").format(
                metric=metric, serving_value=format(ours, ".4g"), baseline_value=format(theirs, ".4g")
            ),
            facts,
            links,
        )
    return Verdict(
        FAIL,
        _("The baseline beats the serving model on {metric} ({baseline_value} vs {serving_value}).").format(
            metric=metric, baseline_value=format(theirs, ".4g"), serving_value=format(ours, ".4g")
        ),
        facts,
        links,
    )


@rule(
    "model-6",
    gettext_lazy(
        "Log per-slice quality metrics named slice/<slice name>/<quality metric>, e.g. slice/mobile/accuracy."
    ),
)
def slice_metrics_meet_threshold(s: Snapshot) -> Verdict:
    _serving, run, _missing = serving_and_run(s)
    run = run or s.latest_finished_run()
    if run is None:
        return Verdict(UNKNOWN, _("No finished runs were synced."))
    metric, prefix = s.t("quality_metric"), s.t("slice_prefix")
    slices = {
        k[len(prefix) : -len(metric) - 1]: v
        for k, v in run.metrics.items()
        if k.startswith(prefix) and k.endswith("/" + metric)
    }
    links = (s.run_link(run),)
    if not slices:
        return Verdict(
            FAIL,
            _("Run {run} has no {prefix}<slice>/{metric} metrics.").format(
                run=run.run_id[:8], prefix=prefix, metric=metric
            ),
            {"run": run.run_id},
            links,
        )
    overall = run.metrics.get(metric)
    if overall is None:
        return Verdict(
            UNKNOWN,
            _("Run {run} has slice metrics but no overall {metric}.").format(run=run.run_id[:8], metric=metric),
            {"slices": slices},
            links,
        )
    ratio = float(s.t("slice_min_ratio"))
    floor = overall * ratio if s.t("higher_is_better") else overall / ratio
    weak = {name: value for name, value in slices.items() if not at_least_as_good(s, value, floor, 0.0)}
    facts = {"overall": overall, "slices": slices, "floor": floor}
    if weak:
        worst = ", ".join(f"{name} {value:.4g}" for name, value in sorted(weak.items())[:3])
        return Verdict(
            FAIL,
            _("{weak} of {slices} slices miss the threshold {threshold}: {worst}.").format(
                weak=len(weak), slices=len(slices), threshold=format(floor, ".4g"), worst=worst
            ),
            facts,
            links,
        )
    return Verdict(
        PASS,
        _("All {slices} slices are within the threshold {threshold} of {metric}.").format(
            slices=len(slices), threshold=format(floor, ".4g"), metric=metric
        ),
        facts,
        links,
    )


# Registered after the rules above, so RULES follows the rubric's order.
from integrations.mlflow import rules_infra  # noqa: E402

__all__ = ["RULES", "Rule", "Verdict", "evaluate", "rules_infra"]
