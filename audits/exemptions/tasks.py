"""Celery tasks of exemptions (registered through audits/tasks.py)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone


@shared_task(
    name="exemptions.notify_expiring",
    acks_late=True,
    autoretry_for=(OperationalError,),  # the database was unreachable for a moment
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
    time_limit=300,
)
def notify_expiring_exemptions() -> int:
    """Run daily by beat. Takes no id: it looks at every standing exemption. What it asked for is recorded in
    the notifications ledger (audits.notifications), which the team's notifications page reads."""
    from audits.exemptions.expiry import notify_expiring_exemptions as run

    return run(today=timezone.localdate())
