"""Events mlaudit notices by itself: a regression at submit, and audits due or overdue by their cadence.

Each event's key makes it fire once: a regression once per submitted audit, a due date once per kind of
reminder, so retried tasks and daily re-runs of the scan record nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audits.exemptions.rules import audit_score_day, counted_status
from audits.formatting import plain, score
from audits.models import Audit, AuditStatus, NotificationEvent, Project
from audits.notifications.services import notify
from rubric.models import ScoreBand, status_label

# Reminders: this many days before the due date, on the day, and once overdue.
DUE_SOON_DAYS = 14


# Regressions ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drop:
    code: str
    title: str
    before: str
    after: str


def previous_submitted(audit: Audit) -> Audit | None:
    """The project's submitted audit just before this one."""
    assert audit.submitted_at is not None
    return (
        Audit.objects.filter(project_id=audit.project_id, status=AuditStatus.SUBMITTED)
        .exclude(pk=audit.pk)
        .filter(submitted_at__lte=audit.submitted_at)
        .select_related("rubric")
        .order_by("-submitted_at", "-pk")
        .first()
    )


def _band_rank(audit: Audit, label: str) -> int | None:
    """The band's position from the bottom in the audit's rubric (None if the rubric has no such band)."""
    bands = sorted(ScoreBand.objects.filter(rubric=audit.rubric_id), key=lambda b: (b.lower is not None, b.lower))
    labels = [band.label for band in bands]
    return labels.index(label) if label in labels else None


def _section_drops(audit: Audit, previous: Audit) -> list[Drop]:
    titles = dict(audit.rubric.sections.values_list("key", "title"))
    drops = []
    for key, after in (audit.section_scores or {}).items():
        before = (previous.section_scores or {}).get(key)
        if before is not None and Decimal(str(after)) < Decimal(str(before)):
            drops.append(Drop(key, titles.get(key, key), plain(before), plain(after)))
    return drops


def _item_drops(audit: Audit, previous: Audit) -> list[Drop]:
    # Counted statuses (an exemption only when it counted on the audit's day: audits.exemptions.rules).
    day, previous_day = audit_score_day(audit), audit_score_day(previous)
    now = {
        code: (counted_status(status, state, expires_on, day), title)
        for code, status, state, expires_on, title in audit.answers.values_list(
            "item__code", "status", "exemption_state", "expires_on", "item__title"
        )
    }
    then = {
        code: counted_status(status, state, expires_on, previous_day)
        for code, status, state, expires_on in previous.answers.values_list(
            "item__code", "status", "exemption_state", "expires_on"
        )
    }
    drops = []
    for code, (status, title) in now.items():
        before = then.get(code)
        if before is not None and audit.rubric.points_for(status) < previous.rubric.points_for(before):
            drops.append(Drop(code, title, before, status))
    return drops


def regression_check(*, audit_id: int) -> bool:
    """After a submit: notify a regression if the final score or the band is lower than the audit's before.
    True if it was a regression."""
    audit = Audit.objects.select_related("project__team", "rubric").filter(pk=audit_id).first()
    if audit is None or audit.status != AuditStatus.SUBMITTED or audit.final_score is None:
        return False
    previous = previous_submitted(audit)
    if previous is None or previous.final_score is None:
        return False
    now_rank, then_rank = _band_rank(audit, audit.band_label), _band_rank(audit, previous.band_label)
    lower_band = now_rank is not None and then_rank is not None and now_rank < then_rank
    if not (audit.final_score < previous.final_score or lower_band):
        return False
    with translation.override(settings.LANGUAGE_CODE):
        sections, items = _section_drops(audit, previous), _item_drops(audit, previous)
        notify(
            event=NotificationEvent.REGRESSION,
            project=audit.project,
            audit=audit,
            key=f"audit:{audit.pk}",
            context=_regression_context(audit, previous, sections, items),
        )
    return True


def _regression_context(audit: Audit, previous: Audit, sections: list[Drop], items: list[Drop]) -> dict[str, Any]:
    lines = [
        _("Final score {before} → {after}.").format(before=score(previous.final_score), after=score(audit.final_score))
    ]
    if audit.band_label != previous.band_label:
        lines.append(_("Band {before} → {after}.").format(before=previous.band_label, after=audit.band_label))
    for drop in sections:
        lines.append(
            _("Section {section}: {before} → {after}.").format(
                section=drop.title, before=score(drop.before), after=score(drop.after)
            )
        )
    for drop in items:
        lines.append(
            _("{code} {title}: {before} → {after}.").format(
                code=drop.code, title=drop.title, before=status_label(drop.before), after=status_label(drop.after)
            )
        )
    return {
        "title": _("{project}: the score dropped from {before} to {after}").format(
            project=audit.project.name, before=score(previous.final_score), after=score(audit.final_score)
        ),
        "lines": lines,
        "url": reverse("audits:audit-detail", args=[audit.pk]),
        "final": float(audit.final_score) if audit.final_score is not None else None,
        "previous_final": float(previous.final_score) if previous.final_score is not None else None,
        "band": audit.band_label or None,
        "previous_band": previous.band_label or None,
        "previous_audit": previous.pk,
        "sections_dropped": [{"section": d.code, "before": d.before, "after": d.after} for d in sections],
        "items_dropped": [{"item": d.code, "before": d.before, "after": d.after} for d in items],
    }


# Audits due and overdue ----------------------------------------------------------------------------------


def due_date(project: Project) -> date:
    """The day the next audit is due: the cadence after the last submitted audit (or after the project began)."""
    anchor = project.last_audit_at or project.created_at
    return timezone.localdate(anchor) + timedelta(days=project.audit_cadence_days)


def scanned_projects() -> QuerySet[Project]:
    return Project.objects.select_related("team").only(
        "pk", "name", "slug", "team", "audit_cadence_days", "last_audit_at", "last_audit_final", "created_at"
    )


def due_scan(*, today: date | None = None) -> int:
    """Run daily by beat: remind each project DUE_SOON_DAYS before its due date, on the day, and once overdue.
    Returns how many reminders were new."""
    today = today or timezone.localdate()
    fired = 0
    with translation.override(settings.LANGUAGE_CODE):
        for project in scanned_projects().iterator(chunk_size=500):
            due = due_date(project)
            days_left = (due - today).days
            if days_left > DUE_SOON_DAYS:
                continue
            if days_left > 0:
                event, kind = NotificationEvent.AUDIT_DUE, "due-soon"
                title = _("{project}: audit due in {days} days ({date})")
            elif days_left == 0:
                event, kind = NotificationEvent.AUDIT_DUE, "due-today"
                title = _("{project}: audit due today ({date})")
            else:
                event, kind = NotificationEvent.AUDIT_OVERDUE, "overdue"
                title = _("{project}: audit overdue since {date}")
            key = f"{kind}:{project.pk}:{due.isoformat()}"
            fired += _notify_due(project, event, key, title.format(project=project.name, days=days_left, date=due), due)
    return fired


def _notify_due(project: Project, event: str, key: str, title: str, due: date) -> int:
    from audits.models import Notification

    if Notification.objects.filter(event=event, team_id=project.team_id, key=key).exists():
        return 0  # the common case on every later day: one cheap query
    lines = [
        _("Audited every {days} days; the last audit was submitted {when}.").format(
            days=project.audit_cadence_days,
            when=timezone.localdate(project.last_audit_at).isoformat() if project.last_audit_at else _("never"),
        )
    ]
    notify(
        event=event,
        project=project,
        key=key,
        context={"title": title, "lines": lines, "due_on": due.isoformat(), "final": _float(project.last_audit_final)},
    )
    return 1


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None
