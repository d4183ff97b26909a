"""Evidence rules for the infrastructure and monitoring items (see integrations.mlflow.rulebook)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from django.utils.translation import gettext_lazy

from integrations.mlflow.facts import (
    GIT_COMMIT_TAG,
    RunFact,
    Snapshot,
    finite,
    is_true,
)
from integrations.mlflow.rulebook import (
    DAY_MS,
    FAIL,
    PASS,
    UNKNOWN,
    Verdict,
    _,
    compare_with_previous,
    no_serving,
    rule,
)


@rule(
    "infra-1",
    gettext_lazy(
        "Re-run training with the same params, commit and dataset; the quality metric must agree within the tolerance."
    ),
)
def training_is_reproducible(s: Snapshot) -> Verdict:
    metric, tolerance = s.t("quality_metric"), float(s.t("reproducibility_tolerance"))
    groups: dict[tuple, list[RunFact]] = defaultdict(list)
    for run in s.runs:
        commit = run.tags.get(GIT_COMMIT_TAG, "")
        if run.status == "FINISHED" and metric in run.metrics and commit and run.dataset_digests:
            groups[(tuple(sorted(run.params.items())), commit, run.dataset_digests)].append(run)
    repeated = [g for g in groups.values() if len(g) >= 2]
    if not repeated:
        return Verdict(
            FAIL,
            _("No two finished runs share params, commit and dataset with a logged {metric}.").format(metric=metric),
            {"metric": metric},
        )
    disagreeing = []
    for group in repeated:
        values = [r.metrics[metric] for r in group]
        spread = max(values) - min(values)
        if not all(finite(v) for v in values) or spread > abs(max(values, key=abs)) * tolerance:
            disagreeing.append(group)
    best = (disagreeing or repeated)[0] if disagreeing else repeated[0]
    links = tuple(s.run_link(r) for r in best[:3])
    facts = {"repeated_groups": len(repeated), "disagreeing_groups": len(disagreeing), "tolerance": tolerance}
    if disagreeing:
        return Verdict(
            FAIL,
            _("{disagreeing} of {repeated} repeated trainings disagree on {metric} beyond {tolerance}.").format(
                disagreeing=len(disagreeing), repeated=len(repeated), metric=metric, tolerance=format(tolerance, ".2%")
            ),
            facts,
            links,
        )
    return Verdict(
        PASS,
        _("{repeated} repeated trainings agree on {metric} within {tolerance}.").format(
            repeated=len(repeated), metric=metric, tolerance=format(tolerance, ".2%")
        ),
        facts,
        links,
    )


@rule(
    "infra-4",
    gettext_lazy(
        "Log validation metrics (val_…) in the training run, or tag the version approved=true, "
        "before it becomes serving."
    ),
)
def serving_version_was_validated(s: Snapshot) -> Verdict:
    serving = s.serving()
    if serving is None:
        return no_serving(s)
    links: tuple[str, ...] = (s.version_link(serving),)
    approvals = [t for t in s.t("approval_tags") if is_true(serving.tags.get(t, ""))]
    if approvals:
        return Verdict(
            PASS,
            _("{model} v{version} is tagged {tag}=true.").format(
                model=serving.model_name, version=serving.version, tag=approvals[0]
            ),
            {"tag": approvals[0]},
            links,
        )
    run = s.run(serving.run_id)
    if run is None:
        return Verdict(UNKNOWN, _("The serving version has no approval tag and its run was not synced."), links=links)
    links += (s.run_link(run),)
    validation = sorted(k for k in run.metrics if any(k.startswith(p) for p in s.t("validation_metric_prefixes")))
    if not validation:
        return Verdict(
            FAIL,
            _("The serving version has neither validation metrics nor an approval tag."),
            {"run": run.run_id},
            links,
        )
    since = s.serving_since_ms(serving)
    facts = {"validation_metrics": validation[:20], "serving_since_ms": since, "run_end_ms": run.end_time}
    if since is not None and run.end_time is not None and run.end_time > since:
        return Verdict(FAIL, _("The validation run finished after the version became serving."), facts, links)
    return Verdict(
        PASS,
        _("Validation metrics ({metrics}) were logged before serving.").format(metrics=", ".join(validation[:3])),
        facts,
        links,
    )


@rule(
    "infra-6",
    gettext_lazy(
        "Point a challenger or canary alias at a version before moving the serving alias to it; "
        "mlaudit remembers the alias history."
    ),
)
def canary_preceded_serving(s: Snapshot) -> Verdict:
    serving = s.serving()
    if serving is None:
        return no_serving(s)
    links = (s.version_link(serving),)
    canaries = set(s.t("canary_aliases"))
    since = s.serving_since_ms(serving)
    earlier = [x for x in s.alias_history if since is None or x.seen_ms < since]
    for sighting in earlier:
        held = {
            a for a, v in sighting.aliases.get(serving.model_name, {}).items() if v == serving.version and a in canaries
        }
        if held:
            return Verdict(
                PASS,
                _("v{version} was “{alias}” before it served.").format(version=serving.version, alias=sorted(held)[0]),
                {"seen_ms": sighting.seen_ms},
                links,
            )
    if since is None:
        return Verdict(
            UNKNOWN,
            _("v{version} was already serving when mlaudit first synced; no canary history yet.").format(
                version=serving.version
            ),
            links=links,
        )
    return Verdict(
        FAIL,
        _("v{version} became serving without a {aliases} alias first.").format(
            version=serving.version, aliases="/".join(sorted(canaries))
        ),
        {"serving_since_ms": since},
        links,
    )


@rule(
    "infra-7",
    gettext_lazy(
        "Keep the previous serving version's artifacts, and keep a previous alias on it "
        "(or roll back once to prove it works)."
    ),
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
    sequence = [number for _seen, number in s.serving_sequence(serving.model_name)]
    moved_back = any(later < earlier for earlier, later in itertools.pairwise(sequence))
    has_previous_alias = s.t("previous_alias") in previous.aliases
    facts.update(moved_back=moved_back, previous_alias=has_previous_alias)
    if previous.artifacts_present is None:
        return Verdict(
            UNKNOWN, _("Could not check the artifacts of v{previous}.").format(previous=previous.version), facts, links
        )
    if not (moved_back or has_previous_alias):
        return Verdict(
            FAIL,
            _("v{previous} is kept, but no rollback was seen and no “previous” alias exists.").format(
                previous=previous.version
            ),
            facts,
            links,
        )
    return Verdict(
        PASS, _("v{previous} is ready for rollback with its artifacts.").format(previous=previous.version), facts, links
    )


@rule(
    "monitoring-4",
    gettext_lazy("Retrain and register a new serving version regularly; the threshold is the maximum age in days."),
)
def serving_version_is_fresh(s: Snapshot) -> Verdict:
    serving = s.serving()
    if serving is None:
        return no_serving(s)
    links = (s.version_link(serving),)
    if serving.created_ms is None:
        return Verdict(UNKNOWN, _("The serving version has no creation time."), links=links)
    age_days = (s.now_ms - serving.created_ms) / DAY_MS
    limit = float(s.t("max_serving_age_days"))
    facts = {"age_days": round(age_days, 1), "max_days": limit}
    if age_days <= limit:
        return Verdict(
            PASS,
            _("The serving version is {age} days old (limit {limit}).").format(
                age=format(age_days, ".0f"), limit=format(limit, ".0f")
            ),
            facts,
            links,
        )
    return Verdict(
        FAIL,
        _("The serving version is {age} days old, older than {limit} days.").format(
            age=format(age_days, ".0f"), limit=format(limit, ".0f")
        ),
        facts,
        links,
    )


@rule(
    "monitoring-5",
    gettext_lazy(
        "Keep NaN and infinite values out of logged metrics; mlaudit reads the metric histories of recent runs."
    ),
)
def no_nan_or_inf_metrics(s: Snapshot) -> Verdict:
    recent = s.recent_runs()
    if not recent:
        return Verdict(UNKNOWN, _("No runs were synced."))
    bad = {r.run_id: sorted(k for k, v in r.metrics.items() if not finite(v)) for r in recent}
    for run_id, keys in s.bad_histories.items():
        bad[run_id] = sorted(set(bad.get(run_id, [])) | set(keys))
    bad = {k: v for k, v in bad.items() if v}
    facts = {"runs_checked": len(recent), "histories_checked": len(s.histories_checked), "bad": bad}
    if bad:
        runs = [r for r in recent if r.run_id in bad] or [r for r in s.runs if r.run_id in bad]
        links = tuple(s.run_link(r) for r in runs[:3])
        first = next(iter(bad.items()))
        return Verdict(
            FAIL,
            _("{count} recent runs have NaN or infinite values (e.g. {metric}).").format(
                count=len(bad), metric=first[1][0]
            ),
            facts,
            links,
        )
    return Verdict(
        PASS,
        _("No NaN or infinite values in the metrics of the {count} most recent runs.").format(count=len(recent)),
        facts,
    )


@rule(
    "monitoring-6",
    gettext_lazy(
        "Log a latency metric (latency_ms by default) for every candidate; it may not grow beyond the tolerance."
    ),
)
def latency_has_not_regressed(s: Snapshot) -> Verdict:
    return compare_with_previous(
        s, s.t("latency_metric"), float(s.t("latency_tolerance")), lower_is_better=True, same_dataset=False
    )


@rule("monitoring-7", gettext_lazy("Evaluate every serving version on the same dataset with the same quality metric."))
def quality_has_not_regressed(s: Snapshot) -> Verdict:
    return compare_with_previous(
        s, s.t("quality_metric"), float(s.t("quality_tolerance")), lower_is_better=False, same_dataset=True
    )
