"""Evidence rules: one small pure function per rubric item, over the synced facts (facts.Snapshot).

Each returns a Verdict: pass, fail or unknown, a one-line reason, the facts it used and links into the
MLflow UI. "fail" means the evidence is missing or contradicts the item; "unknown" means the facts do
not allow a judgement (for instance nothing is serving yet). A pass carries the level its evidence
justifies (rulebook.passed → evidence.levels). Each rule reads MLflow's own conventions first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy

from evidence.levels import Observation
from integrations.mlflow.facts import (
    GIT_COMMIT_TAG,
    RunFact,
    Snapshot,
    is_true,
    slice_of,
    split_metric,
)
from integrations.mlflow.rulebook import (
    FAIL,
    UNKNOWN,
    Verdict,
    _,
    at_least_as_good,
    evidence_runs,
    no_serving,
    passed,
    rule,
    run_observation,
    serving_and_run,
    short,
    version_observation,
    version_runs,
    version_series,
)


@dataclass(frozen=True)
class _ArtifactLook:
    """What data-1 and data-2 share: the serving version and its run, the artifacts of the run matching the
    rule's names, the versions whose runs logged one, or the verdict that ends the rule early."""

    serving: Any = None
    run: Any = None
    found: list[str] = field(default_factory=list)
    observations: list[Any] = field(default_factory=list)
    links: tuple[Any, ...] = ()
    early: Verdict | None = None


def _artifact_rule(s: Snapshot, names: tuple[str, ...] | list[str]) -> _ArtifactLook:
    """Which artifacts of the serving version's run, and which versions' runs, match one of `names`."""
    serving, run, missing = serving_and_run(s)
    if missing or serving is None or run is None:
        return _ArtifactLook(early=missing or no_serving(s))
    links = (s.version_link(serving), s.run_link(run))
    if run.artifacts is None:
        unlisted = _("The artifacts of run {run} could not be listed.").format(run=short(run.run_id))
        return _ArtifactLook(early=Verdict(UNKNOWN, unlisted, links=links))
    words = list(names)
    observations = [
        version_observation(s, v, r) for v, r in version_runs(s, serving.model_name) if r.artifact_matching(words)
    ]
    return _ArtifactLook(serving, run, run.artifact_matching(words), observations, links)


@rule(
    "data-1",
    gettext_lazy(
        "mlaudit looks in the serving version's training run for an artifact that writes down what each feature "
        "may hold (ranges, allowed values, distributions), named like “expectations” or “data_validation”. "
        "MLflow's inferred signature and dataset schema list types only, so they are not enough on their own."
    ),
    """
import mlflow
expectations = {"tenure": {"min": 0, "max": 120}, "plan": {"in": ["basic", "pro"]}}
with mlflow.start_run():
    mlflow.log_dict(expectations, "data_expectations.json")
""",
)
def feature_expectations_are_written_down(s: Snapshot) -> Verdict:
    look = _artifact_rule(s, s.thresholds.expectation_artifacts)
    if look.early is not None:
        return look.early
    serving, run, found, observations, links = look.serving, look.run, look.found, look.observations, look.links
    facts: dict[str, Any] = {"run": run.run_id, "artifacts": found[:10]}
    if not found:
        return Verdict(
            FAIL,
            _("Run {run} of v{version} logged no feature expectations (only MLflow's inferred types, if any).").format(
                run=short(run.run_id), version=serving.version
            ),
            facts,
            links,
        )
    return passed(
        s,
        _("Run {run} of v{version} logged feature expectations: {files}.").format(
            run=short(run.run_id), version=serving.version, files=", ".join(found[:3])
        ),
        facts,
        links,
        observations,
        series=version_series(s, serving.model_name),
    )


@rule(
    "data-2",
    gettext_lazy(
        "mlaudit looks in the serving version's run for a measurement of each feature's contribution: "
        "feature importance or SHAP artifacts (xgboost/lightgbm autolog, mlflow.models.evaluate with shap "
        "installed) or an ablation report."
    ),
    """
import mlflow
mlflow.xgboost.autolog()          # logs feature_importance_weight.json on each fit
# or: mlflow.models.evaluate(model_uri, data, targets="label", model_type="classifier")
#     logs shap_feature_importance_plot.png when shap is installed
""",
)
def feature_contribution_is_measured(s: Snapshot) -> Verdict:
    look = _artifact_rule(s, s.thresholds.importance_artifacts)
    if look.early is not None:
        return look.early
    serving, run, found, observations, links = look.serving, look.run, look.found, look.observations, look.links
    if not found:
        return Verdict(
            FAIL,
            _("Run {run} of v{version} logged no feature importance or ablation artifact.").format(
                run=short(run.run_id), version=serving.version
            ),
            {"run": run.run_id},
            links,
        )
    return passed(
        s,
        _("Run {run} of v{version} measured feature contributions: {files}.").format(
            run=short(run.run_id), version=serving.version, files=", ".join(found[:3])
        ),
        {"run": run.run_id, "artifacts": found[:10]},
        links,
        observations,
        series=version_series(s, serving.model_name),
    )


DIRTY_TAGS = ("git_dirty", "mlaudit.git_dirty")


@rule(
    "model-1",
    gettext_lazy(
        "mlaudit reads the tag mlflow.source.git.commit that MLflow sets on runs started from a git checkout "
        "(scripts, projects, jobs) on the run behind the serving version. A run tagged git_dirty=true fails."
    ),
    """
# run from a git checkout: MLflow records mlflow.source.git.commit by itself
python train.py
# or pass it explicitly from CI:
mlflow.set_tag("mlflow.source.git.commit", os.environ["GITHUB_SHA"])
""",
)
def model_spec_is_checked_in(s: Snapshot) -> Verdict:
    serving, run, missing = serving_and_run(s)
    if missing or serving is None or run is None:
        return missing or no_serving(s)
    links = (s.version_link(serving), s.run_link(run))
    commit = run.tags.get(GIT_COMMIT_TAG, "")
    facts: dict[str, Any] = {"run": run.run_id, "commit": commit}
    if not commit:
        return Verdict(
            FAIL,
            _("Run {run} of v{version} records no git commit.").format(run=short(run.run_id), version=serving.version),
            facts,
            links,
        )
    if any(is_true(run.tags.get(tag, "")) for tag in DIRTY_TAGS):
        return Verdict(FAIL, _("Run {run} was trained from a dirty tree.").format(run=short(run.run_id)), facts, links)
    observations = [
        version_observation(s, v, r) for v, r in version_runs(s, serving.model_name) if r.tags.get(GIT_COMMIT_TAG)
    ]
    return passed(
        s,
        _("v{version} was trained by run {run} from commit {commit}.").format(
            version=serving.version, run=short(run.run_id), commit=commit[:10]
        ),
        facts,
        links,
        observations,
        series=version_series(s, serving.model_name),
    )


def _settings(runs: list[RunFact]) -> set[tuple]:
    return {tuple(sorted(r.params.items())) for r in runs if r.params}


@rule(
    "model-3",
    gettext_lazy(
        "mlaudit counts hyperparameter sweeps: child training runs (with params) of one parent run, as "
        "sklearn's GridSearchCV autolog, Optuna or Hyperopt integrations write them, or top-level training "
        "runs that try different params on the same training dataset. Nested evaluation runs do not count."
    ),
    """
import mlflow
with mlflow.start_run(run_name="sweep"):
    for lr in (0.01, 0.1, 0.3):
        with mlflow.start_run(nested=True):
            mlflow.log_params({"lr": lr})
            mlflow.log_metric("val_roc_auc", train_and_score(lr))
""",
)
def hyperparameters_are_tuned(s: Snapshot) -> Verdict:
    if not s.runs:
        return Verdict(UNKNOWN, _("No runs were synced."))
    minimum = int(s.thresholds.min_sweep_runs)
    sweeps: list[tuple[str, list[RunFact]]] = []
    children: dict[str, list[RunFact]] = defaultdict(list)
    for run in s.runs:
        if run.parent_run_id and run.params:  # trials have params; nested evaluate runs do not
            children[run.parent_run_id].append(run)
    for parent_id, kids in children.items():
        if len(_settings(kids)) >= minimum:
            sweeps.append((parent_id, kids))
    top: dict[tuple, list[RunFact]] = defaultdict(list)
    for run in s.runs:
        digests = run.training_digests or run.dataset_digests
        if not run.parent_run_id and run.params and digests:
            top[(run.experiment_id, digests, tuple(sorted(run.params)))].append(run)
    for key, group in top.items():
        if len(_settings(group)) >= minimum:
            sweeps.append(("top:" + str(hash(key)), group))
    if not sweeps:
        return Verdict(
            FAIL,
            _("No sweep: no parent run with {minimum}+ trials and no {minimum}+ param settings on one dataset.").format(
                minimum=minimum
            ),
            {"largest_sweep": max((len(k) for k in children.values()), default=0)},
        )
    subject, trials = max(sweeps, key=lambda kv: len(kv[1]))
    parent = s.run(subject)
    links = tuple(s.run_link(r) for r in ([parent] if parent else []) + trials[:3])
    observations = [
        Observation(min(r.when for r in group), key, *s.launched_by_system(parent_or_first(s, key, group)))
        for key, group in sweeps
    ]
    reason = (
        _("Parent run {parent} has {trials} trials with {settings} param settings.").format(
            parent=short(subject), trials=len(trials), settings=len(_settings(trials))
        )
        if parent
        else _("{settings} param settings were tried on one training dataset.").format(settings=len(_settings(trials)))
    )
    return passed(s, reason, {"sweeps": len(sweeps), "trials": len(trials)}, links, observations, kind="runs")


def parent_or_first(s: Snapshot, key: str, group: list[RunFact]) -> RunFact:
    return s.run(key) or min(group, key=lambda r: r.when)


def _is_baseline(s: Snapshot, run: RunFact) -> bool:
    words = [w.lower() for w in s.thresholds.baseline_words]
    text = " ".join([run.name, *run.params.values()]).lower()
    return any(is_true(run.tags.get(w, "")) for w in words) or any(w in text for w in words)


@rule(
    "model-5",
    gettext_lazy(
        "mlaudit looks for a baseline run (name, tag or params saying baseline, dummy, majority or naive) "
        "on a dataset the serving version's run also used, and compares the quality metric both logged. A "
        "“baseline” trained with the serving run's own params is the same model, not a simpler one."
    ),
    """
import mlflow
from sklearn.dummy import DummyClassifier
with mlflow.start_run(run_name="baseline"):
    mlflow.log_input(train_ds, context="training")
    mlflow.models.evaluate(baseline_uri, test_df, targets="label",
                           model_type="classifier", evaluator_config={"metric_prefix": "test_"})
""",
)
def simpler_model_is_not_better(s: Snapshot) -> Verdict:
    serving, run, missing = serving_and_run(s)
    if missing or serving is None or run is None:
        return missing or no_serving(s)
    links: tuple[str, ...] = (s.version_link(serving), s.run_link(run))
    base = s.quality_base(run)
    serving_digests = {d for r in evidence_runs(s, serving) for d in r.dataset_digests}
    # A "baseline" trained with the serving run's own params is the same model again, not a simpler one.
    baselines = [
        r
        for r in s.runs
        if r.run_id != run.run_id
        and _is_baseline(s, r)
        and (r.dataset_digests & serving_digests)
        and not (r.params and r.params == run.params)
    ]
    if not baselines:
        return Verdict(FAIL, _("No baseline run on the serving model's datasets."), {"metric": base}, links)
    if base is None:
        return Verdict(UNKNOWN, _("The serving run logged no quality metric to compare."), {}, links)
    comparable = [(b, k) for b in baselines if (k := s.quality_key(b, base)) and k in run.metrics]
    if not comparable:
        return Verdict(
            FAIL,
            _("The baseline and the serving run share no “{metric}” metric.").format(metric=base),
            {"baselines": [b.run_id for b in baselines[:5]]},
            links,
        )
    baseline, key = max(comparable, key=lambda pair: pair[0].when)
    links += (s.run_link(baseline),)
    ours, theirs = run.metrics[key], baseline.metrics[key]
    facts = {"metric": key, "serving": ours, "baseline": theirs, "baseline_run": baseline.run_id}
    if not at_least_as_good(ours, theirs, 0.0, higher=s.better(base)):
        return Verdict(
            FAIL,
            _("The baseline beats the serving model on {metric} ({baseline_value} vs {serving_value}).").format(
                metric=key, baseline_value=format(theirs, ".4g"), serving_value=format(ours, ".4g")
            ),
            facts,
            links,
        )
    return passed(
        s,
        _("{metric}: serving {serving_value} vs baseline {baseline_value}.").format(
            metric=key, serving_value=format(ours, ".4g"), baseline_value=format(theirs, ".4g")
        ),
        facts,
        links,
        [run_observation(s, b) for b, _key in comparable],
        kind="runs",
    )


def _slices(s: Snapshot, runs: list[RunFact], base: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for r in runs:
        for key, value in r.metrics.items():
            name = slice_of(key, base)
            if name is not None:
                found[name] = value
    return found


@rule(
    "model-6",
    gettext_lazy(
        "mlaudit reads per-slice quality metrics of the serving version: mlflow.models.evaluate run once per "
        "slice with metric_prefix “slice_<name>_” (or keys slice/<name>/<metric>), in its run or in "
        "evaluation runs of its logged model, and checks each slice against the overall value."
    ),
    """
import mlflow
for name, part in test_df.groupby("device"):
    mlflow.models.evaluate(model_uri, part, targets="label", model_type="classifier",
                           evaluator_config={"metric_prefix": f"slice_{name}_"})
""",
)
def quality_is_sufficient_on_slices(s: Snapshot) -> Verdict:
    serving, run, missing = serving_and_run(s)
    if missing or serving is None or run is None:
        return missing or no_serving(s)
    links = (s.version_link(serving), s.run_link(run))
    base = s.quality_base(run)
    runs = evidence_runs(s, serving)
    if base is None:
        bases = {split_metric(k[6:].split("_", 1)[-1]) for r in runs for k in r.metrics if k.startswith("slice")}
        base = next((b[1] for b in bases if b), None)
    if base is None:
        return Verdict(
            FAIL,
            _("v{version} logged no quality metric, overall or per slice.").format(version=serving.version),
            {},
            links,
        )
    slices = _slices(s, runs, base)
    if not slices:
        return Verdict(
            FAIL,
            _("v{version} has no per-slice {metric} (slice_<name>_{metric}).").format(
                version=serving.version, metric=base
            ),
            {"metric": base},
            links,
        )
    key = next((k for r in runs if (k := s.quality_key(r, base))), None)
    overall = next((r.metrics[key] for r in runs if key and key in r.metrics), None)
    if overall is None:
        return Verdict(
            UNKNOWN,
            _("v{version} has slice metrics but no overall {metric}.").format(version=serving.version, metric=base),
            {"slices": slices},
            links,
        )
    ratio, higher = float(s.thresholds.slice_min_ratio), s.better(base)
    floor = overall * ratio if higher else overall / ratio
    weak = {name: value for name, value in slices.items() if not at_least_as_good(value, floor, 0.0, higher=higher)}
    facts = {"metric": base, "overall": overall, "slices": slices, "floor": floor}
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
    observations = [
        version_observation(s, v, r)
        for v, r in version_runs(s, serving.model_name)
        if _slices(s, evidence_runs(s, v), base)
    ]
    return passed(
        s,
        _("All {slices} slices are within the threshold {threshold} of {metric}.").format(
            slices=len(slices), threshold=format(floor, ".4g"), metric=base
        ),
        facts,
        links,
        observations,
        series=version_series(s, serving.model_name),
    )


def _fairness_keys(s: Snapshot, runs: list[RunFact]) -> list[str]:
    words = [w.lower() for w in s.thresholds.fairness_words]
    named = [w.lower() for w in s.thresholds.fairness_metrics]
    keys = []
    for r in runs:
        for key in r.metrics:
            lower = key.lower()
            if any(m in lower for m in named) or (
                lower.startswith("slice") and any(f"_{w}" in lower or f"/{w}" in lower for w in words)
            ):
                keys.append(key)
    return sorted(set(keys))


@rule(
    "model-7",
    gettext_lazy(
        "mlaudit looks for quality measured per group of people: slices named after a protected attribute "
        "(slice_gender_…, slice_age_…) or fairness metrics (demographic_parity, equalized_odds, disparate_impact) "
        "in the serving version's runs."
    ),
    """
import mlflow
for group, part in test_df.groupby("gender"):
    mlflow.models.evaluate(model_uri, part, targets="label", model_type="classifier",
                           evaluator_config={"metric_prefix": f"slice_gender_{group}_"})
mlflow.log_metric("demographic_parity_difference", dpd)
""",
)
def inclusion_is_tested(s: Snapshot) -> Verdict:
    serving, run, missing = serving_and_run(s)
    if missing or serving is None or run is None:
        return missing or no_serving(s)
    links = (s.version_link(serving), s.run_link(run))
    keys = _fairness_keys(s, evidence_runs(s, serving))
    if not keys:
        return Verdict(
            FAIL, _("v{version} logged no per-group or fairness metric.").format(version=serving.version), {}, links
        )
    observations = [
        version_observation(s, v, r)
        for v, r in version_runs(s, serving.model_name)
        if _fairness_keys(s, evidence_runs(s, v))
    ]
    return passed(
        s,
        _("v{version} measured quality across groups: {metrics}.").format(
            version=serving.version, metrics=", ".join(keys[:3])
        ),
        {"metrics": keys[:20]},
        links,
        observations,
        series=version_series(s, serving.model_name),
    )


DATA_AND_MODEL_RULES = (
    feature_expectations_are_written_down,
    feature_contribution_is_measured,
    model_spec_is_checked_in,
    hyperparameters_are_tuned,
    simpler_model_is_not_better,
    quality_is_sufficient_on_slices,
    inclusion_is_tested,
)
