"""The plumbing of the evidence rules: the Verdict a rule returns, the registry and shared helpers.

The rules themselves are in integrations.mlflow.rules (features, data and model development),
integrations.mlflow.rules_infra (infrastructure) and integrations.mlflow.rules_monitoring (monitoring);
integrations.mlflow.ruleset lists them all in the rubric's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

from evidence.levels import MANUAL, Observation, level
from evidence.sources import FindingResult
from evidence.wording import Wording, _
from integrations.mlflow.facts import (
    RunFact,
    Snapshot,
    VersionFact,
)

PASS, FAIL, UNKNOWN = FindingResult.PASS.value, FindingResult.FAIL.value, FindingResult.UNKNOWN.value
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Verdict:
    """A rule's answer. A pass carries the level its evidence justifies (suggested: manual or automated)
    and the sentence citing the recurrence (level_reason); facts hold what was read or observed."""

    result: str
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)
    links: tuple[str, ...] = ()
    suggested: str = ""
    level_reason: str = ""


@dataclass(frozen=True)
class Rule:
    item: str
    how_to: Promise  # what mlaudit reads in MLflow to back this item (the convention), translated
    example: str  # a short example with MLflow's own API (code: not translated)
    check: Callable[[Snapshot], Verdict]


def rule(item: str, how_to: Promise, example: str = "") -> Callable[[Callable[[Snapshot], Verdict]], Rule]:
    """Make a check function a Rule for one rubric item. Rules are listed, not registered: each rules
    module names its rules in a tuple and integrations.mlflow.ruleset puts them together."""

    def make(check: Callable[[Snapshot], Verdict]) -> Rule:
        return Rule(item=item, how_to=how_to, example=example.strip(), check=check)

    return make


def run_observation(s: Snapshot, run: RunFact, subject: str | None = None, when: int | None = None) -> Observation:
    by_system, how = s.launched_by_system(run)
    return Observation(when_ms=when or run.when, subject=subject or run.run_id, by_system=by_system, how=how)


def version_observation(s: Snapshot, version: VersionFact, run: RunFact | None = None) -> Observation:
    run = run or s.run(version.run_id)
    by_system, how = s.launched_by_system(run) if run else (False, "")
    return Observation(s.version_time(version), f"v{version.version}", by_system, how)


def passed(
    s: Snapshot,
    reason: Wording,
    facts: dict[str, Any],
    links: tuple[str, ...],
    observations: list[Observation],
    *,
    series: list[str] | None = None,
    kind: str = "versions",
) -> Verdict:
    """A pass with the level its observations justify (evidence.levels), never the sync's trigger."""
    found = level(observations, now_ms=s.now_ms, series=series, kind=kind)
    status = found.status or MANUAL  # a pass is at least a test done and recorded
    return Verdict(
        PASS,
        reason,
        {**facts, "level": {"status": status, **found.facts}},
        links,
        suggested=status,
        level_reason=found.reason,
    )


def version_series(s: Snapshot, model_name: str) -> list[str]:
    """Every registered version of a model, oldest first, as level subjects."""
    return [f"v{v.version}" for v in s.versions_of(model_name)]


def no_serving(s: Snapshot) -> Verdict:
    return Verdict(
        UNKNOWN,
        _("No registered version carries the alias “{alias}” or the Production stage.").format(alias=s.serving_alias),
    )


def serving_and_run(s: Snapshot) -> tuple[VersionFact | None, RunFact | None, Verdict | None]:
    serving = s.serving()
    if serving is None:
        return None, None, no_serving(s)
    run = s.run(serving.run_id)
    if run is None:
        return (
            serving,
            None,
            Verdict(
                UNKNOWN,
                _(
                    "The run {run} of {model} v{version} is not in the synced experiments; "
                    "add its experiment to the connection."
                ).format(run=serving.run_id or "(none)", model=serving.model_name, version=serving.version),
                links=(s.version_link(serving),),
            ),
        )
    return serving, run, None


def at_least_as_good(new: float, old: float, tolerance: float, *, higher: bool) -> bool:
    """Is `new` at least as good as `old`, allowing a relative tolerance?"""
    slack = abs(old) * tolerance
    return new >= old - slack if higher else new <= old + slack


def evidence_runs(s: Snapshot, version: VersionFact) -> list[RunFact]:
    """The version's own run and the runs that evaluated it: children of that run, or MLflow 3 runs whose
    model inputs name the version's logged model (mlflow.models.evaluate(model_id=...))."""
    own = s.run(version.run_id)
    linked = [
        r
        for r in s.runs
        if r.run_id != version.run_id
        and (
            (version.run_id and r.parent_run_id == version.run_id)
            or (version.model_id and version.model_id in r.model_inputs)
        )
    ]
    return ([own] if own else []) + sorted(linked, key=lambda r: r.when)


def version_runs(s: Snapshot, model_name: str) -> list[tuple[VersionFact, RunFact]]:
    """(version, its run) for each registered version whose run was synced, oldest first."""
    pairs = []
    for v in s.versions_of(model_name):
        run = s.run(v.run_id)
        if run is not None:
            pairs.append((v, run))
    return pairs


def short(run_id: str) -> str:
    return run_id[:8]
