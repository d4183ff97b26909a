"""Celery tasks of notifications: they take ids and call audits.notifications services."""

from __future__ import annotations

import logging
from typing import Any

import kombu.exceptions
from celery import Task, shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils.translation import gettext as _

from audits.notifications import delivery, digest, producers

log = logging.getLogger(__name__)


class DeliveryTask(Task):
    """Retries a failed delivery with Celery's exponential backoff and jitter; the ledger row records each
    attempt, and only a pending row is ever sent, so retries and redelivered messages never send twice."""

    autoretry_for = (delivery.DeliveryRetry,)
    retry_backoff = settings.MLAUDIT_NOTIFY_RETRY_BASE
    retry_backoff_max = int(settings.MLAUDIT_NOTIFY_RETRY_MAX)
    retry_jitter = True
    max_retries = settings.MLAUDIT_NOTIFY_MAX_RETRIES
    acks_late = True
    reject_on_worker_lost = True
    soft_time_limit = 60
    time_limit = 90

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """An error the service did not expect (a bug, a time limit): the row says so instead of staying pending."""
        delivery_id = kwargs.get("delivery_id", args[0] if args else None)
        if delivery_id is None:
            return
        log.error("Notification delivery %s failed unexpectedly: %r", delivery_id, exc)
        delivery.delivery_mark_failed(delivery_id=int(delivery_id), error=_("Internal error; see the worker log."))


@shared_task(bind=True, base=DeliveryTask, name="notifications.deliver")
def deliver_notification(self: DeliveryTask, delivery_id: int) -> str | None:
    # Run in-process (the embedded mode, no broker), a retry would block the request that sent it: fail now.
    final = bool(self.request.is_eager) or self.request.retries >= self.max_retries
    row = delivery.delivery_attempt(delivery_id=delivery_id, final_attempt=final)
    return row.state if row else None


@shared_task(name="notifications.resend_pending", acks_late=True, time_limit=120)
def resend_pending() -> int:
    """Run by beat: queue again the deliveries whose task never ran (the broker refused it or lost it)."""
    from audits.notifications.services import queue_deliveries, stranded_delivery_ids

    ids = stranded_delivery_ids()
    queue_deliveries(ids)
    return len(ids)


@shared_task(
    name="notifications.check_regression",
    acks_late=True,
    autoretry_for=(OperationalError,),  # the database is away for now
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
    time_limit=120,
)
def check_regression(audit_id: int) -> bool:
    return producers.regression_check(audit_id=audit_id)


def audit_submitted(audit_id: int) -> None:
    """audits.services.audit_submit calls this after its commit: compare the audit with the one before."""
    try:
        check_regression.delay(audit_id)
    except kombu.exceptions.OperationalError as exc:  # the broker is down: the submit stands, the alert is lost
        log.warning("Regression check of audit %s could not be queued: %s", audit_id, exc)


@shared_task(name="notifications.scan_due_audits", acks_late=True, time_limit=600)
def scan_due_audits() -> int:
    """Run daily by beat; the events' keys make a re-run send nothing twice."""
    return producers.due_scan()


@shared_task(name="notifications.send_weekly_digests", acks_late=True, time_limit=600)
def send_weekly_digests() -> int:
    """Run weekly by beat: one digest per team with something to say (keyed by ISO week)."""
    return digest.digests_send()
