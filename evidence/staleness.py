"""When an answer accepted from evidence stops holding, and what the current evidence still supports: pure.

An answer rests on a `Basis` (the acceptance: source, level, when the evidence was observed and, for MLflow,
the serving version it was about). It is **stale** when

  (a) the serving alias it was answered for now points to another version,
  (b) its source has not confirmed it within the project's freshness window for its level, or
  (c) the latest evidence for the item no longer supports its level (fails, suggests less, or is gone).

`supported` is what the current evidence still justifies: the latest finding's level when it passes and is
about the version serving now, lowered to *manual* once it is older than the automated window and to not
done once it is older than the manual window, and never above the answer itself. The live score
(audits.staleness) puts it in place of each stale answer.

Reasons are Wordings, so a notification can retell them in any interface language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from evidence.wording import Wording, _
from rubric.statuses import AUTOMATED, MANUAL, NOT_DONE

PASS = "pass"
_RANK = {NOT_DONE: 0, MANUAL: 1, AUTOMATED: 2}


def rank(status: str | None) -> int:
    return _RANK.get(status or NOT_DONE, 0)


@dataclass(frozen=True)
class Basis:
    """What an answer took from its evidence when someone accepted it."""

    item: str
    source: str
    status: str  # the level the answer took: manual or automated
    observed_at: datetime | None  # when the evidence was synced or received
    model_name: str = ""
    alias: str = ""
    version: int | None = None  # the serving version the evidence was about; None: the source knows none


@dataclass(frozen=True)
class Latest:
    """The source's current finding for the item."""

    result: str  # pass, fail or unknown
    level: str  # the suggested level; "" when not passing
    observed_at: datetime
    version: int | None = None  # the serving version (of the basis's model and alias) it was about


@dataclass(frozen=True)
class Windows:
    automated_days: int
    manual_days: int

    def days(self, status: str) -> int:
        return self.automated_days if status == AUTOMATED else self.manual_days


@dataclass(frozen=True)
class Staleness:
    item: str
    status: str  # the answer's level
    supported: str  # what the current evidence still supports
    reasons: tuple[Wording, ...]
    confirmed_at: datetime | None  # the last time the source confirmed the answer

    @property
    def stale(self) -> bool:
        return bool(self.reasons)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def reason_in(self, language: str) -> str:
        return "; ".join(reason.in_language(language) for reason in self.reasons)


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86_400


def _about_serving(basis: Basis, latest: Latest, serving_now: int | None) -> bool:
    """A finding speaks for the answer's model only when it was about the version serving now."""
    return basis.version is None or latest.version == serving_now


def supported_level(
    basis: Basis, latest: Latest | None, *, serving_now: int | None, windows: Windows, now: datetime
) -> str:
    if latest is None or latest.result != PASS or not _about_serving(basis, latest, serving_now):
        return NOT_DONE
    level = latest.level if latest.level in (AUTOMATED, MANUAL) else MANUAL
    age = _days(now, latest.observed_at)
    if level == AUTOMATED and age > windows.automated_days:
        level = MANUAL
    if level == MANUAL and age > windows.manual_days:
        level = NOT_DONE
    # "Still" supports: never more than the answer claimed (evidence nobody accepted does not raise a score).
    return level if rank(level) <= rank(basis.status) else basis.status


def _version_moved(basis: Basis, serving_now: int | None) -> Wording | None:
    if basis.version is None or serving_now == basis.version:
        return None
    if serving_now is None:
        return _("answered for {alias} v{old}; {alias} now points to no version").format(
            alias=basis.alias, old=basis.version
        )
    return _("answered for {alias} v{old}; {alias} is now v{new}").format(
        alias=basis.alias, old=basis.version, new=serving_now
    )


def _no_longer_supported(basis: Basis, latest: Latest | None, source_label: str) -> Wording | None:
    if latest is None:
        return _("no current evidence from {source} for this item").format(source=source_label)
    if latest.result != PASS:
        if basis.status == AUTOMATED:
            return _("latest evidence no longer supports automated")
        return _("latest evidence no longer supports manual")
    if rank(latest.level) < rank(basis.status):
        return _("latest evidence supports only manual, not automated")
    return None


def assess(
    basis: Basis,
    latest: Latest | None,
    *,
    serving_now: int | None,
    windows: Windows,
    now: datetime,
    source_label: str = "",
) -> Staleness:
    """Whether the answer still holds, why not, and what the current evidence supports.

    `serving_now` is the version the basis's alias points at now (pass `basis.version` when unknown).
    """
    found = (_version_moved(basis, serving_now), _no_longer_supported(basis, latest, source_label or basis.source))
    reasons = [reason for reason in found if reason is not None]
    confirms = (
        latest is not None
        and latest.result == PASS
        and rank(latest.level) >= rank(basis.status)
        and (basis.version is None or latest.version == basis.version)
    )
    confirmed_at = latest.observed_at if confirms and latest is not None else basis.observed_at
    window = windows.days(basis.status)
    if confirmed_at is not None and _days(now, confirmed_at) > window:
        reasons.append(
            _("last confirmed {days} days ago (window: {window} days)").format(
                days=int(_days(now, confirmed_at)), window=window
            )
        )
    return Staleness(
        item=basis.item,
        status=basis.status,
        supported=supported_level(basis, latest, serving_now=serving_now, windows=windows, now=now),
        reasons=tuple(reasons),
        confirmed_at=confirmed_at,
    )
