"""Evidence rules for the infrastructure and monitoring items (see integrations.mlflow.rulebook)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from django.utils.translation import gettext_lazy

from evidence.levels import Observation
from integrations.mlflow.facts import (
    GIT_COMMIT_TAG,
    RunFact,
    Snapshot,
    VersionFact,
    finite,
    split_metric,
)
from integrations.mlflow.rulebook import (
    FAIL,
    UNKNOWN,
    Verdict,
    _,
    evidence_runs,
    no_serving,
    passed,
    rule,
    run_observation,
    short,
    version_observation,
)

# Metrics that describe the run, not the model: never compared for reproducibility.
NOT_QUALITY = ("time", "duration", "example_count", "epoch", "step", "latency")


def _comparable(run: RunFact) -> dict[str, float]:
    return {k: v for k, v in run.metrics.items() if not any(word in k for word in NOT_QUALITY)}


@rule(
    "infra-1",
    gettext_lazy(
        "mlaudit groups training runs (runs with params that read a training dataset or logged a model) by "
        "params, git commit and training dataset digest; where a group has two or more runs, every metric "
        "they share must agree within the tolerance. Evaluation-only runs are left out."
    ),
    """
import mlflow
for attempt in (1, 2):                       # same code, params and data, twice
    with mlflow.start_run(run_name=f"repro-{attempt}"):
        mlflow.log_params(params)
        mlflow.log_input(mlflow.data.from_pandas(train_df, name="train"), context="training")
        mlflow.log_metric("val_roc_auc", fit_and_score(params))
""",
)
def training_is_reproducible(s: Snapshot) -> Verdict:
    tolerance = float(s.thresholds.reproducibility_tolerance)
    groups: dict[tuple, list[RunFact]] = defaultdict(list)
    for run in s.runs:
        digests = run.training_digests or run.dataset_digests
        if run.status == "FINISHED" and run.is_training and digests and _comparable(run):
            groups[(tuple(sorted(run.params.items())), run.tags.get(GIT_COMMIT_TAG, ""), digests)].append(run)
    repeated = []
    for group in groups.values():
        shared = set.intersection(*(set(_comparable(r)) for r in group))
        if len(group) >= 2 and shared:
            repeated.append((group, sorted(shared)))
    if not repeated:
        return Verdict(FAIL, _("No two training runs share params, commit and training dataset."), {})
    disagreeing = []
    for group, keys in repeated:
        for key in keys:
            values = [r.metrics[key] for r in group]
            spread = max(values) - min(values)
            if not all(finite(v) for v in values) or spread > abs(max(values, key=abs)) * tolerance:
                disagreeing.append((group, key))
                break
    facts = {"repeated_groups": len(repeated), "disagreeing_groups": len(disagreeing), "tolerance": tolerance}
    if disagreeing:
        group, key = disagreeing[0]
        return Verdict(
            FAIL,
            _("{disagreeing} of {repeated} repeated trainings disagree beyond {tolerance} (e.g. on {metric}).").format(
                disagreeing=len(disagreeing), repeated=len(repeated), tolerance=format(tolerance, ".2%"), metric=key
            ),
            facts,
            tuple(s.run_link(r) for r in group[:3]),
        )
    group, keys = repeated[0]
    observations = [run_observation(s, r, subject=r.run_id) for g, _keys in repeated for r in g[1:]]
    return passed(
        s,
        _("{repeated} repeated trainings agree on {metrics} within {tolerance}.").format(
            repeated=len(repeated), metrics=", ".join(keys[:3]), tolerance=format(tolerance, ".2%")
        ),
        facts,
        tuple(s.run_link(r) for r in group[:3]),
        observations,
        kind="runs",
    )


@rule(
    "infra-3",
    gettext_lazy(
        "mlaudit looks for end-to-end test runs of the pipeline: runs in an experiment or with a name saying "
        "integration, e2e or smoke (configurable) that went from data to a model. A production retraining job "
        "that runs is not a test of the pipeline, so scheduled training runs alone do not count."
    ),
    """
import mlflow
mlflow.set_experiment("churn-integration")       # CI runs the whole pipeline on a small sample
with mlflow.start_run(run_name="e2e-smoke", tags={"ci": "github-actions"}):
    mlflow.log_input(mlflow.data.from_pandas(sample_df, name="sample"), context="training")
    model = train(sample_df); mlflow.sklearn.log_model(model, name="model")
""",
)
def pipeline_is_integration_tested(s: Snapshot) -> Verdict:
    words = [w.lower() for w in s.thresholds.integration_words]
    runs = sorted(
        (
            r
            for r in s.runs
            if r.status == "FINISHED"
            and (r.datasets or r.logged_model)
            and any(w in f"{s.experiment_names.get(r.experiment_id, '')} {r.name}".lower() for w in words)
        ),
        key=lambda r: r.when,
    )
    if not runs:
        return Verdict(FAIL, _("No end-to-end test run of the pipeline (integration, e2e or smoke)."), {})
    latest = runs[-1]
    return passed(
        s,
        _("Run {run} is an end-to-end test ({name}).").format(run=short(latest.run_id), name=latest.name),
        {"runs": len(runs)},
        tuple(s.run_link(r) for r in runs[-3:]),
        [run_observation(s, r) for r in runs],
        kind="runs",
    )


def _approval(s: Snapshot, version: VersionFact) -> str:
    approving = {v.lower() for v in s.thresholds.approving_values}
    for tag in s.thresholds.validation_tags:
        if version.tags.get(tag, "").strip().lower() in approving:
            return f"{tag}={version.tags[tag]}"
    return ""


def _training_digests(s: Snapshot, version: VersionFact) -> frozenset[str]:
    own = s.run(version.run_id)
    return own.training_digests if own else frozenset()


def _evaluated_before(s: Snapshot, version: VersionFact, until: int | None) -> tuple[RunFact, str] | None:
    """An mlflow.models.evaluate run of the version (prefix + example_count) finished before `until`, on data
    other than the version's training data."""
    training = _training_digests(s, version)
    for run in evidence_runs(s, version):
        prefixes = {p for p in run.held_out_prefixes(training) if not p.startswith("training")}
        if prefixes and (until is None or (run.end_time or run.when) <= until):
            prefix = sorted(prefixes)[0]
            keys = sorted(k for k in run.metrics if (split := split_metric(k)) and split[0] == prefix)
            return run, (keys[0] if keys else prefix + "example_count")
    return None


def served_series(s: Snapshot, serving: VersionFact) -> list[VersionFact]:
    """The versions that served, oldest first, from the alias history; on a first sync (one known), every
    registered version, since the registry is then all there is to read."""
    numbers = list(dict.fromkeys(n for _seen, n in s.serving_sequence(serving.model_name)))
    known = [v for n in numbers if (v := s.version(serving.model_name, n)) is not None]
    if serving.version not in numbers:
        known.append(serving)
    return known if len(known) >= 2 else s.versions_of(serving.model_name)


@rule(
    "infra-4",
    gettext_lazy(
        "mlaudit accepts a model version tag validation_status (configurable) with an approving value "
        "(approved, passed, validated), or an mlflow.models.evaluate result for the version (its run or an "
        "evaluation run of its logged model: <prefix>example_count next to the standard metrics) logged before "
        "it became serving, on data other than its training dataset. Autolog's val_* metrics from fitting are not "
        "a validation gate. Automated when the versions that served each carry it."
    ),
    """
from mlflow import MlflowClient
result = mlflow.models.evaluate(model_uri, test_df, targets="label", model_type="classifier",
                                evaluator_config={"metric_prefix": "test_"})
if result.metrics["test_roc_auc"] >= 0.85:
    MlflowClient().set_model_version_tag("churn", version, "validation_status", "approved")
""",
)
def quality_validated_before_serving(s: Snapshot) -> Verdict:
    serving = s.serving()
    if serving is None:
        return no_serving(s)
    links: tuple[str, ...] = (s.version_link(serving),)

    def check(version: VersionFact) -> tuple[str, RunFact | None] | None:
        tag = _approval(s, version)
        if tag:
            return tag, None
        found = _evaluated_before(s, version, s.first_served_ms(version))
        return (found[1], found[0]) if found else None

    evidence = check(serving)
    if evidence is None:
        run = s.run(serving.run_id)
        late = _evaluated_before(s, serving, None)
        if late:
            return Verdict(
                FAIL, _("v{version} was evaluated only after it became serving.").format(version=serving.version),
                {"run": late[0].run_id}, (*links, s.run_link(late[0])),
            )  # fmt: skip
        return Verdict(
            FAIL,
            _("v{version} has no approving validation tag and no mlflow.models.evaluate result.").format(
                version=serving.version
            ),
            {"run": run.run_id if run else ""},
            links + ((s.run_link(run),) if run else ()),
        )
    series = served_series(s, serving)
    observations = []
    for version in series:
        found = check(version)
        if found:
            observations.append(version_observation(s, version, found[1]))
    what, run = evidence
    if run is not None:
        links += (s.run_link(run),)
        reason = _("v{version} was evaluated with mlflow.models.evaluate ({metric}) before serving.").format(
            version=serving.version, metric=what
        )
    else:
        reason = _("v{version} is tagged {tag}.").format(version=serving.version, tag=what)
    return passed(s, reason, {"evidence": what}, links, observations, series=[f"v{v.version}" for v in series])


def _canary_before_serving(s: Snapshot, version: VersionFact) -> int | None:
    """When a canary alias was seen on the version strictly before the serving alias first pointed at it."""
    canaries = set(s.thresholds.canary_aliases)
    for sighting in s.alias_history:
        aliases = sighting.aliases.get(version.model_name, {})
        if aliases.get(s.serving_alias) == version.version:
            return None  # serving first: any later canary alias is not a canary
        if any(aliases.get(a) == version.version for a in canaries):
            return sighting.seen_ms
    return None


@rule(
    "infra-6",
    gettext_lazy(
        "mlaudit needs the alias history to show a canary alias (challenger, canary, shadow) on a version "
        "before the serving alias moved to it; an alias seen only once proves nothing. A version tag "
        "canary_status with an approving value also counts."
    ),
    """
from mlflow import MlflowClient
c = MlflowClient()
c.set_registered_model_alias("churn", "challenger", new_version)   # canary traffic first
# ... later, after the canary looked healthy:
c.set_registered_model_alias("churn", "champion", new_version)
""",
)
def canary_preceded_serving(s: Snapshot) -> Verdict:
    serving = s.serving()
    if serving is None:
        return no_serving(s)
    links = (s.version_link(serving),)
    approving = {v.lower() for v in s.thresholds.approving_values}

    def canaried(version: VersionFact) -> int | None:
        if any(version.tags.get(t, "").lower() in approving for t in s.thresholds.canary_tags):
            return s.version_time(version)
        return _canary_before_serving(s, version)

    seen = canaried(serving)
    if seen is None:
        if s.serving_since_ms(serving) is None and not any(serving.tags.get(t) for t in s.thresholds.canary_tags):
            return Verdict(
                UNKNOWN,
                _("v{version} was already serving when mlaudit first saw it; no canary history yet.").format(
                    version=serving.version
                ),
                links=links,
            )
        return Verdict(
            FAIL,
            _("v{version} became serving without a {aliases} alias first.").format(
                version=serving.version, aliases="/".join(sorted(s.thresholds.canary_aliases))
            ),
            {},
            links,
        )
    served = [number for _seen, number in s.serving_sequence(serving.model_name)]
    observations = []
    for number in served:
        version = s.version(serving.model_name, number)
        when = canaried(version) if version else None
        if version and when is not None:
            observations.append(Observation(when, f"v{number}"))
    return passed(
        s,
        _("v{version} was a canary before it served.").format(version=serving.version),
        {"canary_seen_ms": seen},
        links,
        observations,
        series=[f"v{n}" for n in served],
    )


@rule(
    "infra-7",
    gettext_lazy(
        "mlaudit checks that the previous serving version (from the alias history, or a “previous” alias) "
        "still has its artifacts, and that a rollback was seen or a “previous” alias is kept for one."
    ),
    """
from mlflow import MlflowClient
c = MlflowClient()
c.set_registered_model_alias("churn", "previous", old_version)
# rolling back is one call:
c.set_registered_model_alias("churn", "champion", old_version)
""",
)
def rollback_is_possible(s: Snapshot) -> Verdict:
    serving = s.serving()
    if serving is None:
        return no_serving(s)
    previous = s.previous_serving(serving)
    links: tuple[str, ...] = (s.version_link(serving),)
    if previous is None:
        return Verdict(
            FAIL, _("No previous serving version is known (no alias history and no “previous” alias)."), links=links
        )
    links += (s.version_link(previous),)
    facts: dict[str, Any] = {"previous": previous.version, "artifacts_present": previous.artifacts_present}
    if previous.artifacts_present is False:
        return Verdict(
            FAIL,
            _("The artifacts of the previous version v{previous} are gone.").format(previous=previous.version),
            facts,
            links,
        )
    sequence = s.serving_sequence(serving.model_name)
    rollbacks = [(seen, n) for (_a, earlier), (seen, n) in itertools.pairwise(sequence) if n < earlier]
    has_previous_alias = s.thresholds.previous_alias in previous.aliases
    facts.update(rollbacks=len(rollbacks), previous_alias=has_previous_alias)
    if previous.artifacts_present is None:
        return Verdict(
            UNKNOWN, _("Could not check the artifacts of v{previous}.").format(previous=previous.version), facts, links
        )
    if not (rollbacks or has_previous_alias):
        return Verdict(
            FAIL,
            _("v{previous} is kept, but no rollback was seen and no “previous” alias exists.").format(
                previous=previous.version
            ),
            facts,
            links,
        )
    observations = [Observation(seen, f"rollback-{i}") for i, (seen, _n) in enumerate(rollbacks)] or [
        Observation(s.version_time(previous), f"v{previous.version}")
    ]
    return passed(
        s,
        _("v{previous} is ready for rollback with its artifacts.").format(previous=previous.version),
        facts,
        links,
        observations,
        kind="runs",
    )


INFRA_RULES = (
    training_is_reproducible,
    pipeline_is_integration_tested,
    quality_validated_before_serving,
    canary_preceded_serving,
    rollback_is_possible,
)
