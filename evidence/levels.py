"""From observations of one check to a suggested level: manual, automated or none.

Source-neutral: an observation is "this check was seen on this subject at this time, launched by a
person or by a system". MLflow rules build observations from runs and model versions; CI reports can
build them from pipeline runs. The level is never derived from how mlaudit collected the evidence.

The paper gives a full point when "a system runs it automatically and repeatedly". Here that means
one of (all subject to freshness: the latest observation is at most FRESH_DAYS old):
  * recurrence: the check is present on each of the last K subjects of the series (serving versions,
    scheduled runs), and those K span at least D days;
  * a pipeline: at least PIPELINE_RUNS observations launched by a system (e.g. mlflow.source.type
    JOB or PROJECT, or a CI tag), spanning at least D days;
  * every subject: each of the (two or more) subjects of the series carries the check, spanning D days.
Otherwise, when the check was seen at all, the level is manual: done and recorded where the team sees it.

Defaults: K = 3 and D = 14 days — three weekly runs span 14 days, while three runs in one afternoon
(a person trying things) do not. FRESH_DAYS = 90: a schedule that stopped a quarter ago is not running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from evidence.wording import Wording, _
from rubric.statuses import AUTOMATED, MANUAL

NONE = ""  # no level: nothing to suggest
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Observation:
    """One sighting of a check: when (ms since the epoch), on what, and whether a system launched it."""

    when_ms: int
    subject: str
    by_system: bool = False
    how: str = ""  # e.g. "mlflow.source.type=JOB" or "ci=github-actions"


@dataclass(frozen=True)
class Policy:
    recurrence_count: int = 3
    recurrence_days: float = 14.0
    fresh_days: float = 90.0
    pipeline_runs: int = 2

    @classmethod
    def from_settings(cls) -> Policy:
        return cls(
            recurrence_count=int(getattr(settings, "MLAUDIT_EVIDENCE_RECURRENCE_COUNT", cls.recurrence_count)),
            recurrence_days=float(getattr(settings, "MLAUDIT_EVIDENCE_RECURRENCE_DAYS", cls.recurrence_days)),
            fresh_days=float(getattr(settings, "MLAUDIT_EVIDENCE_FRESH_DAYS", cls.fresh_days)),
            pipeline_runs=int(getattr(settings, "MLAUDIT_EVIDENCE_PIPELINE_RUNS", cls.pipeline_runs)),
        )


@dataclass(frozen=True)
class Level:
    status: str  # MANUAL, AUTOMATED or NONE
    reason: Wording | str = ""
    facts: dict[str, Any] = field(default_factory=dict)


def _days(first_ms: int, last_ms: int) -> int:
    return round((last_ms - first_ms) / DAY_MS)


def _span(observations: Sequence[Observation]) -> float:
    times = [o.when_ms for o in observations]
    return (max(times) - min(times)) / DAY_MS if times else 0.0


def level(
    observations: Sequence[Observation],
    *,
    now_ms: int,
    series: Sequence[str] | None = None,
    kind: str = "versions",
    policy: Policy | None = None,
) -> Level:
    """The level the observations justify, with a reason citing the recurrence.

    `series` lists every subject the check could have been on, oldest first (e.g. all serving versions);
    without it, the observed subjects themselves are the series. `kind` is "versions" or "runs" and only
    chooses the wording.
    """
    policy = policy or Policy.from_settings()
    if not observations:
        return Level(NONE)
    by_subject: dict[str, Observation] = {}
    for o in sorted(observations, key=lambda o: o.when_ms):
        by_subject.setdefault(o.subject, o)  # the first sighting of each subject
    if series is None:
        series = list(by_subject)  # oldest first
    latest = max(o.when_ms for o in observations)
    first = min(o.when_ms for o in observations)
    k, min_days = policy.recurrence_count, policy.recurrence_days
    facts: dict[str, Any] = {
        "observations": len(observations),
        "subjects": len(by_subject),
        "series": len(series),
        "span_days": round(_span(observations), 1),
        "K": k,
        "D": min_days,
    }
    age_days = (now_ms - latest) / DAY_MS
    if age_days > policy.fresh_days:
        return Level(
            MANUAL,
            _("Manual: last seen {days} days ago; automated needs a recent recurrence.").format(days=round(age_days)),
            facts,
        )
    window = list(series)[-k:]
    covered = [by_subject[s] for s in window if s in by_subject]
    if len(window) >= k and len(covered) == len(window) and _span(covered) >= min_days:
        message = (
            _("Automated: present on {count} of the last {window} versions, over {days} days.")
            if kind == "versions"
            else _("Automated: present on {count} of the last {window} runs, over {days} days.")
        )
        return Level(
            AUTOMATED,
            message.format(
                count=len(covered),
                window=len(window),
                days=_days(min(o.when_ms for o in covered), max(o.when_ms for o in covered)),
            ),
            {**facts, "why": "recurrence"},
        )
    system = [o for o in observations if o.by_system]
    if len({o.subject for o in system}) >= policy.pipeline_runs and _span(system) >= min_days:
        how = sorted({o.how for o in system if o.how})
        return Level(
            AUTOMATED,
            _("Automated: {count} runs launched by a pipeline ({how}), over {days} days.").format(
                count=len({o.subject for o in system}), how=", ".join(how) or "?", days=round(_span(system))
            ),
            {**facts, "why": "pipeline"},
        )
    if len(series) >= 2 and all(s in by_subject for s in series) and _span(list(by_subject.values())) >= min_days:
        return Level(
            AUTOMATED,
            _("Automated: every one of the {count} registered versions carries it, over {days} days.").format(
                count=len(series), days=_days(first, latest)
            ),
            {**facts, "why": "every_version"},
        )
    message = (
        _(
            "Manual: seen on {count} of {series} versions, over {days} days; automated needs the last {window} "
            "over at least {min_days} days, or pipeline runs."
        )
        if kind == "versions"
        else _(
            "Manual: seen on {count} runs, over {days} days; automated needs {window} runs "
            "over at least {min_days} days, or pipeline runs."
        )
    )
    return Level(
        MANUAL,
        message.format(
            count=len(by_subject), series=len(series), days=_days(first, latest), window=k, min_days=round(min_days)
        ),
        facts,
    )
