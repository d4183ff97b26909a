"""Celery tasks of campaigns: the daily dispatcher (beat) and one task per campaign, taking its id."""

from __future__ import annotations

from functools import partial

from celery import shared_task
from django.db import OperationalError, transaction

from audits.campaigns import reminders


@shared_task(
    name="campaigns.send_reminders",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),  # the database is unreachable for now
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
    time_limit=300,
)
def send_campaign_reminders(campaign_id: int) -> int:
    return reminders.campaign_reminders_send(campaign_id=campaign_id)


@shared_task(name="campaigns.dispatch_reminders", acks_late=True, time_limit=120)
def dispatch_campaign_reminders() -> int:
    """Run daily by beat: one task per running campaign (each records the day it checked on the campaign)."""
    ids = reminders.active_campaign_ids()
    for campaign_id in ids:
        transaction.on_commit(partial(send_campaign_reminders.delay, campaign_id))
    return len(ids)
