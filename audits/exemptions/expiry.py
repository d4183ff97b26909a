"""Telling teams that an exemption expires: 14 days before, and on the day."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from audits.exemptions.selectors import exemptions_expiring
from audits.models.exemptions import EXPIRING_SOON_DAYS
from audits.notifications import notify

EXEMPTION_EXPIRING = "exemption_expiring"


def notify_expiring_exemptions(*, today: date) -> int:
    """Notify each team of its standing exemptions that expire within EXPIRING_SOON_DAYS (`14d`) or today
    (`today`); returns how many notifications were asked for.

    The key holds the answer, its expiry and which of the two it is, so a daily run (or a re-run, or a run
    after a missed day) tells each exemption's team once per notice; a new expiry is a new key.
    """
    asked = 0
    with transaction.atomic():
        for answer in exemptions_expiring(within_days=EXPIRING_SOON_DAYS, today=today):
            assert answer.expires_on is not None  # exemptions_expiring filters on it
            when = "today" if answer.expires_on == today else "14d"
            project = answer.audit.project
            notify(
                event=EXEMPTION_EXPIRING,
                project=project,
                key=f"exemption:{answer.pk}:{answer.expires_on.isoformat()}:{when}",
                context={
                    "item": answer.item.code,
                    "item_title": answer.item.title,
                    "expires_on": answer.expires_on.isoformat(),
                    "days_left": (answer.expires_on - today).days,
                    "project": project.slug,
                    "audit": answer.audit_id,
                },
                audit=answer.audit,
            )
            asked += 1
    return asked
