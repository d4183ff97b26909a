"""The weekly digest: one event per team and ISO week, made of sections.

A section is a function `(team, since, today) -> DigestSection | None`; register more with `digest_section`
(in an AppConfig's ready() or at import of the module that defines them), e.g. expiring exemptions or stale
answers from their own selectors. Sections with nothing to say are left out, and so is a digest with none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audits.formatting import score
from audits.models import Audit, AuditStatus, NotificationEvent, Team
from audits.notifications.producers import DUE_SOON_DAYS, due_date, scanned_projects
from audits.notifications.services import notify

DIGEST_DAYS = 7
MAX_LINES_PER_SECTION = 50


@dataclass(frozen=True)
class DigestSection:
    key: str
    title: str
    lines: list[str] = field(default_factory=list)


SectionFn = Callable[[Team, date, date], DigestSection | None]
SECTIONS: list[SectionFn] = []


def digest_section(fn: SectionFn) -> SectionFn:
    """Add a section to every team's digest (a decorator; registering the same function twice adds it once)."""
    if fn not in SECTIONS:
        SECTIONS.append(fn)
    return fn


@digest_section
def scores_changed(team: Team, since: date, today: date) -> DigestSection | None:
    audits = (
        Audit.objects.filter(
            project__team=team,
            status=AuditStatus.SUBMITTED,
            submitted_at__date__gte=since,
            submitted_at__date__lte=today,
        )
        .select_related("project")
        .order_by("project__name", "submitted_at")
    )
    lines = []
    for audit in audits[:MAX_LINES_PER_SECTION]:
        before = audit.project.previous_audit_final if audit.project.last_audit_id == audit.pk else None
        change = f"{score(before)} → {score(audit.final_score)}" if before is not None else score(audit.final_score)
        lines.append(
            _("{project}: {change} ({band})").format(project=audit.project.name, change=change, band=audit.band_label)
        )
    return DigestSection("scores_changed", _("Scores submitted this week"), lines) if lines else None


def _by_due(team: Team, today: date) -> list[tuple[date, str]]:
    return sorted((due_date(project), project.name) for project in scanned_projects().filter(team=team))


@digest_section
def audits_due(team: Team, since: date, today: date) -> DigestSection | None:
    lines = [
        _("{project}: due {date}").format(project=name, date=due.isoformat())
        for due, name in _by_due(team, today)
        if 0 <= (due - today).days <= DUE_SOON_DAYS
    ]
    return DigestSection("due", _("Audits due soon"), lines[:MAX_LINES_PER_SECTION]) if lines else None


@digest_section
def audits_overdue(team: Team, since: date, today: date) -> DigestSection | None:
    lines = [
        _("{project}: overdue since {date}").format(project=name, date=due.isoformat())
        for due, name in _by_due(team, today)
        if due < today
    ]
    return DigestSection("overdue", _("Audits overdue"), lines[:MAX_LINES_PER_SECTION]) if lines else None


def digest_for(team: Team, *, today: date) -> list[DigestSection]:
    since = today - timedelta(days=DIGEST_DAYS - 1)
    return [section for fn in SECTIONS if (section := fn(team, since, today)) is not None]


def digests_send(*, today: date | None = None) -> int:
    """Record this week's digest for every team with something in it; returns how many teams got one."""
    today = today or timezone.localdate()
    year, week, _weekday = today.isocalendar()
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for team in Team.objects.order_by("pk"):
            sections = digest_for(team, today=today)
            if not sections:
                continue
            lines = [f"{s.title}: {line}" for s in sections for line in s.lines]
            notify(
                event=NotificationEvent.DIGEST,
                project=None,
                team=team,
                key=f"week:{year}-W{week:02d}",
                context={
                    "title": _("{team}: weekly digest, week {week} of {year}").format(
                        team=team.name, week=week, year=year
                    ),
                    "lines": lines,
                    "url": f"/teams/{team.slug}/",
                    "sections": [{"key": s.key, "title": s.title, "lines": s.lines} for s in sections],
                },
            )
            sent += 1
    return sent
