"""The weekly digest: one event per team and ISO week, made of sections.

A section is a function `(team, since, today) -> DigestSection | None`, listed in SECTIONS below (a new
section is written here, reading its feature's selectors, and added to that tuple). Sections with nothing to
say are left out, and so is a digest with none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audits.exemptions.selectors import exemptions_expiring
from audits.formatting import score
from audits.models import Audit, AuditStatus, NotificationEvent, Team
from audits.models.exemptions import EXPIRING_SOON_DAYS
from audits.notifications.producers import DUE_SOON_DAYS, due_date, scanned_projects
from audits.notifications.services import notify
from audits.staleness.selectors import stale_answers_for_team

DIGEST_DAYS = 7
MAX_LINES_PER_SECTION = 50


@dataclass(frozen=True)
class DigestSection:
    key: str
    title: str
    lines: list[str] = field(default_factory=list)


SectionFn = Callable[[Team, date, date], DigestSection | None]


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


def audits_due(team: Team, since: date, today: date) -> DigestSection | None:
    lines = [
        _("{project}: due {date}").format(project=name, date=due.isoformat())
        for due, name in _by_due(team, today)
        if 0 <= (due - today).days <= DUE_SOON_DAYS
    ]
    return DigestSection("due", _("Audits due soon"), lines[:MAX_LINES_PER_SECTION]) if lines else None


def audits_overdue(team: Team, since: date, today: date) -> DigestSection | None:
    lines = [
        _("{project}: overdue since {date}").format(project=name, date=due.isoformat())
        for due, name in _by_due(team, today)
        if due < today
    ]
    return DigestSection("overdue", _("Audits overdue"), lines[:MAX_LINES_PER_SECTION]) if lines else None


def stale_answers(team: Team, since: date, today: date) -> DigestSection | None:
    lines = [
        _("{project}: live score {live} (audited {audited}); stale: {items}").format(
            project=found.project.name,
            live=score(found.final),
            audited=score(found.audited_final),
            items=", ".join(item.code for item in found.stale),
        )
        for found in stale_answers_for_team(team)
    ]
    return (
        DigestSection("stale", _("Answers whose evidence no longer holds"), lines[:MAX_LINES_PER_SECTION])
        if lines
        else None
    )


# Every digest's sections, in the order they are written.
def exemptions_expiring_soon(team: Team, since: date, today: date) -> DigestSection | None:
    """The team's standing exemptions that expire within EXPIRING_SOON_DAYS (audits.exemptions)."""
    answers = exemptions_expiring(within_days=EXPIRING_SOON_DAYS, today=today).filter(audit__project__team=team)
    lines = [
        _("{project}: {item} expires {date}").format(
            project=answer.audit.project.name, item=answer.item.code, date=answer.expires_on.isoformat()
        )
        for answer in answers[:MAX_LINES_PER_SECTION]
        if answer.expires_on is not None
    ]
    return DigestSection("exemptions_expiring", _("Exemptions expiring"), lines) if lines else None


SECTIONS: tuple[SectionFn, ...] = (scores_changed, audits_due, audits_overdue, stale_answers, exemptions_expiring_soon)


def digest_for(team: Team, *, today: date, sections: tuple[SectionFn, ...] = SECTIONS) -> list[DigestSection]:
    since = today - timedelta(days=DIGEST_DAYS - 1)
    return [section for fn in sections if (section := fn(team, since, today)) is not None]


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
