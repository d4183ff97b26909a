"""The portfolio over time and per team: bands per month with the median final score, and a team rollup.

Month by month, each filtered project counts by its latest audit submitted before the month ended (the
current month: so far), with the band label frozen on that audit; projects not audited by then are left
out. One query reads the projects' submitted audits; the rollup reads nothing (the portfolio's rows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from audits.campaigns.selectors import median
from audits.campaigns.targets import Target
from audits.dashboards.selectors import BandLabel
from audits.models import Audit, AuditStatus, Project
from audits.selectors import PortfolioRow
from rubric.scoring import BandSpec

PORTFOLIO_HISTORY_MONTHS = 12  # the current month and the eleven before it


@dataclass(frozen=True)
class BandHistory:
    months: list[date]  # the first day of each month, oldest first
    bands: list[BandLabel]
    counts: list[list[int]]  # per band (in `bands` order), per month: projects in that band at the month's end
    medians: list[Decimal | None]  # per month: the median final score of the projects audited by then


def month_starts(today: date, months: int = PORTFOLIO_HISTORY_MONTHS) -> list[date]:
    """The first day of each of the last `months` months, oldest first, ending with today's month."""
    starts = []
    year, month = today.year, today.month
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return starts[::-1]


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def band_history(*, projects: QuerySet[Project], bands: Sequence[BandLabel], today: date | None = None) -> BandHistory:
    """Bands per month and the median final score over the given (filtered) projects, in one query."""
    today = today or timezone.localdate()
    months = month_starts(today)
    zone = timezone.get_current_timezone()
    ends = [timezone.make_aware(datetime.combine(_next_month(month), datetime.min.time()), zone) for month in months]
    band_index = {band.label: index for index, band in enumerate(bands)}
    counts = [[0] * len(months) for _ in bands]
    finals: list[list[Decimal]] = [[] for _ in months]
    audits = (
        Audit.objects.filter(
            project_id__in=projects.values("pk"), status=AuditStatus.SUBMITTED, submitted_at__lt=ends[-1]
        )
        .order_by("project_id", "submitted_at", "pk")
        .values_list("project_id", "submitted_at", "final_score", "band_label")
    )
    current: Any = None  # the project being walked and its latest audit so far
    month = 0
    latest: tuple[Decimal | None, str] | None = None

    def flush(until: int) -> None:
        """Count the project's latest audit in every month from `month` up to (not including) `until`."""
        if latest is None:
            return
        final, label = latest
        index = band_index.get(label)
        for m in range(month, until):
            if index is not None:
                counts[index][m] += 1
            if final is not None:
                finals[m].append(final)

    for project_id, submitted_at, final, label in audits:
        if project_id != current:
            flush(len(months))
            current, month, latest = project_id, 0, None
        # Months that ended before this audit keep the project's previous latest audit.
        reached = month
        while reached < len(months) and ends[reached] <= submitted_at:  # type: ignore[operator]  # set when submitted
            reached += 1
        flush(reached)
        month = reached
        latest = (final, label)
    flush(len(months))
    return BandHistory(months=months, bands=list(bands), counts=counts, medians=[median(f) for f in finals])


@dataclass(frozen=True)
class TeamRollup:
    slug: str
    name: str
    projects: int
    audited: int
    median_final: Decimal | None
    at_or_above: int  # projects whose latest final score is in the chosen band or a better one
    overdue: int

    @property
    def share_at_or_above(self) -> int:
        """Percent of the team's projects (audited or not) at or above the chosen band."""
        return round(100 * self.at_or_above / self.projects) if self.projects else 0


def default_rollup_band(bands: Sequence[BandLabel]) -> BandLabel | None:
    """The middle band (Reasonably tested on the ML Test Score), when the page names none."""
    return bands[len(bands) // 2] if bands else None


def team_rollup(entries: Sequence[PortfolioRow], band: BandLabel | None) -> list[TeamRollup]:
    """Per team of the filtered projects: how many, their median final score, the share at or above `band`
    (the campaigns' rule: a final score above the band's lower bound) and how many are overdue."""
    target = Target(band=BandSpec(lower=band.lower, upper=band.upper, label=band.label), score=None) if band else None
    by_team: dict[tuple[str, str], list[PortfolioRow]] = defaultdict(list)
    for entry in entries:
        by_team[(entry.team_slug, entry.team_name)].append(entry)
    rollup = []
    for (slug, name), rows in sorted(by_team.items(), key=lambda item: item[0][1].lower()):
        finals = [row.final for row in rows if row.final is not None]
        rollup.append(
            TeamRollup(
                slug=slug,
                name=name,
                projects=len(rows),
                audited=len(finals),
                median_final=median(finals),
                at_or_above=sum(1 for row in rows if target is not None and target.met(row.final)),
                overdue=sum(1 for row in rows if row.overdue),
            )
        )
    return rollup
