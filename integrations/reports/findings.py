"""From a project's reports to one finding per rubric item and kind of report: pure, over plain values.

The latest report that holds a mapped check for the item decides the result: a failing check there is a
*fail*, linked to that CI run. A passing item is *manual* — run once, recorded and shared — until the same
item passed in reports of several distinct CI runs over enough days, the latest one recent: then
*automated*, "a system in place to run that test automatically on a repeated basis". The thresholds are
evidence.levels' own (K runs over D days, fresh within F days) with this source's defaults, and only reports
carrying CI's run id count as a system's runs; a file uploaded by hand stays manual however often it comes.
An alert rule file counts as passing: the alert exists; pushed by the deploying pipeline repeatedly, it is
automated monitoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

from evidence.levels import MANUAL, NONE, Level, Observation, Policy, level
from evidence.wording import _
from integrations.reports.parsers import FAIL, PASS, PRESENT, Check


@dataclass(frozen=True)
class ReportFacts:
    id: int
    kind: str
    run_id: str
    run_url: str
    source: str
    reported_at: datetime
    checks: Sequence[Check]
    mapped: dict[int, tuple[str, ...]]


@dataclass(frozen=True)
class ReportFinding:
    item: str
    source: str  # the report kind
    result: str  # "pass" or "fail"
    suggested_status: str  # "manual", "automated" or "" for a fail
    reason: str
    report: int
    observed_at: datetime
    links: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def policy() -> Policy:
    return Policy(
        recurrence_count=settings.MLAUDIT_REPORTS_RECURRENCE_COUNT,
        recurrence_days=settings.MLAUDIT_REPORTS_RECURRENCE_DAYS,
        fresh_days=settings.MLAUDIT_REPORTS_FRESH_DAYS,
        pipeline_runs=settings.MLAUDIT_REPORTS_RECURRENCE_COUNT,
    )


def _outcome(report: ReportFacts, item: str) -> tuple[str | None, list[str]]:
    """The item's outcome in one report (None: only skipped checks) and the names of its checks there."""
    names, outcomes = [], set()
    for index, items in report.mapped.items():
        if item in items:
            check = report.checks[index]
            names.append(check.name)
            outcomes.add(check.outcome)
    if FAIL in outcomes:
        return FAIL, names
    if outcomes & {PASS, PRESENT}:
        return PASS, names
    return None, names


def findings(reports: Sequence[ReportFacts], *, now: datetime) -> list[ReportFinding]:
    """One finding per (item, kind), from the reports oldest to newest."""
    by_key: dict[tuple[str, str], list[tuple[ReportFacts, str, list[str]]]] = {}
    for report in sorted(reports, key=lambda r: (r.reported_at, r.id)):
        for item in sorted({code for codes in report.mapped.values() for code in codes}):
            outcome, names = _outcome(report, item)
            if outcome is not None:
                by_key.setdefault((item, report.kind), []).append((report, outcome, names))
    result = []
    for (item, kind), history in sorted(by_key.items()):
        latest, outcome, names = history[-1]
        links = [latest.run_url] if latest.run_url else []
        if outcome == FAIL:
            failing = [n for n in names if _failed(latest, n)]
            result.append(
                ReportFinding(
                    item=item,
                    source=kind,
                    result=FAIL,
                    suggested_status="",
                    reason=str(_("Failing in the latest report: {checks}.").format(checks=", ".join(failing[:5]))),
                    report=latest.id,
                    observed_at=latest.reported_at,
                    links=links,
                    checks=names,
                )
            )
            continue
        verdict = _level(history, now=now)
        result.append(
            ReportFinding(
                item=item,
                source=kind,
                result=PASS,
                suggested_status=verdict.status or MANUAL,
                reason=str(verdict.reason),
                report=latest.id,
                observed_at=latest.reported_at,
                links=links,
                checks=names,
                facts=verdict.facts,
            )
        )
    return result


def _failed(report: ReportFacts, name: str) -> bool:
    return any(c.name == name and c.outcome == FAIL for c in report.checks)


def _level(history: Sequence[tuple[ReportFacts, str, list[str]]], *, now: datetime) -> Level:
    runs = [(report, outcome) for report, outcome, _names in history if report.run_id]
    if not runs:
        return Level(MANUAL, _("Manual: passed in a report uploaded without a CI run id."))
    # Each CI run is one subject; the series is every run that checked the item, so a failure in between
    # breaks the recurrence.
    series = [report.run_id for report, _outcome in runs]
    observations = [
        Observation(
            when_ms=int(report.reported_at.timestamp() * 1000),
            subject=report.run_id,
            by_system=True,
            how=report.source or report.kind,
        )
        for report, outcome in runs
        if outcome == PASS
    ]
    verdict = level(observations, now_ms=int(now.timestamp() * 1000), series=series, kind="runs", policy=policy())
    return verdict if verdict.status != NONE else Level(MANUAL, _("Manual: passed in one report."))
