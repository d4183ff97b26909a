"""Celery tasks of notifications: they take ids and call audits.notifications services."""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings

from audits.notifications import delivery


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
