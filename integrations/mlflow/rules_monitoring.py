"""Evidence rules for the monitoring items (see integrations.mlflow.rulebook).

What mlaudit merely observes (the serving version's age, no NaN seen) is reported as a fact with the
result "unknown": it is not something the team does. A pass needs the team's own recurring check.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from django.utils.translation import gettext_lazy

from evidence.levels import MANUAL, Policy
from integrations.mlflow.facts import RunFact, Snapshot, finite
from integrations.mlflow.rulebook import (
    DAY_MS,
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


def _check_keys(run: RunFact, words: list[str]) -> list[str]:
    return sorted(k for k in run.metrics if not k.startswith("training") and any(w.lower() in k.lower() for w in words))


@rule(
    "monitoring-2",
    gettext_lazy(
        "mlaudit looks for runs that check incoming data and log the outcome as metrics named like "
        "drift, violation, invalid, missing_rate or out_of_range (e.g. a scheduled data-validation job)."
    ),
    """
import mlflow
with mlflow.start_run(run_name="input-checks"):
    mlflow.log_input(mlflow.data.from_pandas(todays_requests, name="serving"), context="serving")
    mlflow.log_metrics({"schema_violations": n_bad, "tenure_missing_rate": rate})
""",
)
def input_invariants_are_checked(s: Snapshot) -> Verdict:
    words = list(s.thresholds.input_check_words)
    runs = sorted((r for r in s.runs if _check_keys(r, words)), key=lambda r: r.when)
    if not runs:
        return Verdict(FAIL, _("No run logs input data checks (drift, violations, missing rates)."), {})
    latest = runs[-1]
    keys = _check_keys(latest, words)
    return passed(
        s,
        _("Run {run} checked input data: {metrics}.").format(run=short(latest.run_id), metrics=", ".join(keys[:3])),
        {"runs": len(runs), "metrics": keys[:10]},
        tuple(s.run_link(r) for r in runs[-3:]),
        [run_observation(s, r) for r in runs],
        kind="runs",
    )


@rule(
    "monitoring-4",
    gettext_lazy(
        "mlaudit reads the retraining cadence from the registry: the times of the runs behind the registered "
        "versions. It passes when versions keep coming at most max_serving_age_days apart and the serving one "
        "is younger than that; the serving version's age alone is shown as a fact. Automated only when the "
        "retraining runs were launched by a job (mlflow.source.type JOB or PROJECT, or a CI tag)."
    ),
    """
# a scheduled job (cron, Airflow, Databricks job) retrains and registers:
with mlflow.start_run():
    ...
    mlflow.sklearn.log_model(model, name="model", registered_model_name="churn")
""",
)
def retraining_keeps_models_fresh(s: Snapshot) -> Verdict:
    serving = s.serving()
    if serving is None:
        return no_serving(s)
    links = (s.version_link(serving),)
    limit = float(s.thresholds.max_serving_age_days)
    made = s.version_time(serving)
    if not made:
        return Verdict(UNKNOWN, _("The serving version has no creation time."), links=links)
    age = (s.now_ms - made) / DAY_MS
    times = sorted(t for t in (s.version_time(v) for v in s.versions_of(serving.model_name)) if t)
    gaps = [(b - a) / DAY_MS for a, b in itertools.pairwise(times)]
    facts: dict[str, Any] = {"age_days": round(age, 1), "max_days": limit, "versions": len(times)}
    policy = Policy.from_settings()
    recent = times[-policy.recurrence_count :]
    # A cadence: the last K versions span at least D days (not two hand runs a day apart), no gap too long.
    cadence = len(recent) >= policy.recurrence_count and (recent[-1] - recent[0]) / DAY_MS >= policy.recurrence_days
    if not cadence or max(gaps[-3:]) > limit:
        return Verdict(
            UNKNOWN,
            _(
                "Observed: the serving version is {age} days old; no retraining cadence within {limit} days is visible."
            ).format(age=format(age, ".0f"), limit=format(limit, ".0f")),
            facts,
            links,
        )
    if age > limit:
        return Verdict(
            FAIL,
            _("Retraining stopped: the serving version is {age} days old, older than {limit} days.").format(
                age=format(age, ".0f"), limit=format(limit, ".0f")
            ),
            facts,
            links,
        )
    facts["gap_days"] = round(max(gaps[-3:]), 1)
    reason = _("A new version came every {gap} days or sooner; the serving one is {age} days old.").format(
        gap=format(max(gaps[-3:]), ".0f"), age=format(age, ".0f")
    )
    # Every version "has" its own training, so recurrence over versions says nothing about who retrains:
    # only retrainings launched by a system (a job, a pipeline) make the cadence automated.
    observations = [version_observation(s, v, r) for v, r in version_runs(s, serving.model_name)]
    scheduled = [o for o in observations if o.by_system]
    if not scheduled:
        found = passed(s, reason, facts, links, observations, kind="runs")
        return replace(
            found,
            suggested=MANUAL,
            facts={**found.facts, "level": {"status": MANUAL, "why": "by_hand"}},
            level_reason=_("Manual: the versions were trained by hand, not by a scheduled job."),
        )
    return passed(s, reason, facts, links, scheduled, kind="runs")


@rule(
    "monitoring-5",
    gettext_lazy(
        "mlaudit looks for the team's own numerical checks logged as metrics (nan_count, inf_count, "
        "non_finite, nan_rate). What mlaudit sees itself in metric histories (NaN or not) is shown as a fact."
    ),
    """
import numpy as np, mlflow
preds = model.predict(batch)
mlflow.log_metrics({"nan_count": int(np.isnan(preds).sum()), "inf_count": int(np.isinf(preds).sum())})
""",
)
def numerical_stability_is_checked(s: Snapshot) -> Verdict:
    words = list(s.thresholds.stability_check_words)
    checks = sorted((r for r in s.runs if _check_keys(r, words)), key=lambda r: r.when)
    recent = s.recent_runs()
    bad = {r.run_id: sorted(k for k, v in r.metrics.items() if not finite(v)) for r in recent}
    for run_id, keys in s.bad_histories.items():
        bad[run_id] = sorted(set(bad.get(run_id, [])) | set(keys))
    bad = {k: v for k, v in bad.items() if v}
    facts = {"runs_checked": len(recent), "histories_checked": len(s.histories_checked), "non_finite": bad}
    if checks:
        latest = checks[-1]
        return passed(
            s,
            _("Run {run} logs numerical checks: {metrics}.").format(
                run=short(latest.run_id), metrics=", ".join(_check_keys(latest, words)[:3])
            ),
            facts,
            tuple(s.run_link(r) for r in checks[-3:]),
            [run_observation(s, r) for r in checks],
            kind="runs",
        )
    if not recent:
        return Verdict(UNKNOWN, _("No runs were synced."))
    if bad:
        return Verdict(
            UNKNOWN,
            _("Observed: {count} recent runs have NaN or infinite metric values; no numerical check is logged.").format(
                count=len(bad)
            ),
            facts,
            tuple(s.run_link(r) for r in recent if r.run_id in bad)[:3],
        )
    return Verdict(
        UNKNOWN,
        _(
            "Observed: no NaN or infinity in the metrics of the {count} latest runs; no numerical check is logged."
        ).format(count=len(recent)),
        facts,
    )


def _latency(s: Snapshot, runs: list[RunFact]) -> tuple[str, float] | None:
    for key in s.thresholds.latency_metrics:
        for run in runs:
            if key in run.metrics:
                return key, run.metrics[key]
    return None


@rule(
    "monitoring-6",
    gettext_lazy(
        "mlaudit compares a latency metric (latency_ms, latency/mean, p95_latency_ms, …; configurable) of the "
        "serving version's runs with the previous serving version's; it may not grow beyond the tolerance."
    ),
    """
import time, mlflow
start = time.perf_counter(); model.predict(sample); ms = (time.perf_counter() - start) * 1000
mlflow.log_metric("latency_ms", ms)
""",
)
def computing_performance_has_not_regressed(s: Snapshot) -> Verdict:
    serving, run, missing = serving_and_run(s)
    if missing or serving is None or run is None:
        return missing or no_serving(s)
    links: tuple[str, ...] = (s.version_link(serving), s.run_link(run))
    ours = _latency(s, evidence_runs(s, serving))
    if ours is None:
        return Verdict(FAIL, _("v{version} logged no latency metric.").format(version=serving.version), {}, links)
    previous = s.previous_serving(serving)
    if previous is None:
        return Verdict(UNKNOWN, _("There is no previous serving version to compare with."), {"latency": ours[1]}, links)
    theirs = next((r.metrics[ours[0]] for r in evidence_runs(s, previous) if ours[0] in r.metrics), None)
    links += (s.version_link(previous),)
    if theirs is None:
        return Verdict(
            UNKNOWN, _("v{previous} logged no {metric}.").format(previous=previous.version, metric=ours[0]), {}, links
        )
    tolerance = float(s.thresholds.latency_tolerance)
    facts = {"metric": ours[0], "serving": ours[1], "previous": theirs, "tolerance": tolerance}
    if not at_least_as_good(ours[1], theirs, tolerance, higher=False):
        return Verdict(
            FAIL,
            _("{metric} regressed: v{version} {serving_value} vs v{previous} {previous_value}.").format(
                metric=ours[0], version=serving.version, serving_value=format(ours[1], ".4g"),
                previous=previous.version, previous_value=format(theirs, ".4g"),
            ),
            facts,
            links,
        )  # fmt: skip
    observations = [
        version_observation(s, v, r) for v, r in version_runs(s, serving.model_name) if _latency(s, evidence_runs(s, v))
    ]
    return passed(
        s,
        _("{metric}: v{version} {serving_value} vs v{previous} {previous_value}, no regression.").format(
            metric=ours[0],
            version=serving.version,
            serving_value=format(ours[1], ".4g"),
            previous=previous.version,
            previous_value=format(theirs, ".4g"),
        ),
        facts,
        links,
        observations,
        series=version_series(s, serving.model_name),
    )


@rule(
    "monitoring-7",
    gettext_lazy(
        "mlaudit reads backtest or monitoring runs (an experiment or run name with backtest, monitoring, "
        "monitor; configurable) that log the serving model's quality metric on served data, and compares the "
        "latest with the first since the version started serving. Offline training metrics, and re-scoring the "
        "model on its own training dataset, do not count."
    ),
    """
import mlflow
mlflow.set_experiment("churn-backtests")
with mlflow.start_run(run_name=f"backtest-{week}"):
    mlflow.models.evaluate(f"models:/churn@champion", last_week_df, targets="churned",
                           model_type="classifier")
""",
)
def prediction_quality_has_not_regressed(s: Snapshot) -> Verdict:
    serving, run, missing = serving_and_run(s)
    if missing or serving is None or run is None:
        return missing or no_serving(s)
    links: tuple[str, ...] = (s.version_link(serving),)
    base = s.quality_base(run) or next(
        (b for r in s.runs if s.is_monitoring(r) for k in r.metrics if (b := (split_or_none(k)))), None
    )
    made = s.version_time(serving)
    training = run.training_digests
    backtests = sorted(
        (
            r
            for r in s.runs
            if s.is_monitoring(r) and r.when >= made and base and s.quality_key(r, base) and _on_new_data(r, training)
        ),
        key=lambda r: r.when,
    )
    if not backtests:
        return Verdict(
            FAIL,
            _("No backtest or monitoring run logged {metric} since v{version} was made.").format(
                metric=base or "a quality metric", version=serving.version
            ),
            {"metric": base},
            links,
        )
    assert base is not None
    first, latest = backtests[0], backtests[-1]
    old, new = first.metrics[s.quality_key(first, base) or base], latest.metrics[s.quality_key(latest, base) or base]
    tolerance = max(float(s.thresholds.quality_tolerance), 0.0)
    links += tuple(s.run_link(r) for r in backtests[-3:])
    facts = {"metric": base, "first": old, "latest": new, "backtests": len(backtests)}
    if not at_least_as_good(new, old, tolerance, higher=s.better(base)):
        return Verdict(
            FAIL,
            _("{metric} on served data fell from {first} to {latest} over {count} backtests.").format(
                metric=base, first=format(old, ".4g"), latest=format(new, ".4g"), count=len(backtests)
            ),
            facts,
            links,
        )
    return passed(
        s,
        _("{count} backtests of v{version} track {metric} on served data (latest {latest}, first {first}).").format(
            count=len(backtests),
            version=serving.version,
            metric=base,
            latest=format(new, ".4g"),
            first=format(old, ".4g"),
        ),
        facts,
        links,
        [run_observation(s, r) for r in backtests],
        kind="runs",
    )


def _on_new_data(run: RunFact, training: frozenset[str]) -> bool:
    """Re-scoring the model on the table it was trained on is not a look at served data. A run that logged
    no dataset leaves it open."""
    scored = {d.digest for d in run.datasets if d.digest}
    return not (scored and scored <= training)


def split_or_none(key: str) -> str | None:
    from integrations.mlflow.facts import split_metric

    split = split_metric(key)
    return split[1] if split else None


MONITORING_RULES = (
    input_invariants_are_checked,
    retraining_keeps_models_fresh,
    numerical_stability_is_checked,
    computing_performance_has_not_regressed,
    prediction_quality_has_not_regressed,
)
