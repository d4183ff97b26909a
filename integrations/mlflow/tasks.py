"""Celery tasks: they take ids, call a service and decide only about retrying."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils.translation import gettext as _

from integrations.mlflow import services

log = logging.getLogger(__name__)


def retry_delay(retries: int) -> float:
    """Exponential backoff with jitter: base * 2^n, plus up to the same again at random."""
    base = settings.MLAUDIT_MLFLOW_SYNC_RETRY_BASE * (2**retries)
    delay = min(base, settings.MLAUDIT_MLFLOW_SYNC_RETRY_MAX)
    return delay + random.uniform(0, delay)


@shared_task(
    bind=True,
    name="mlflow_evidence.sync_connection",
    acks_late=True,
    max_retries=None,  # counted against MLAUDIT_MLFLOW_SYNC_MAX_RETRIES below, so settings can change it
    time_limit=settings.MLAUDIT_MLFLOW_SYNC_TIME_LIMIT + 30,
    soft_time_limit=settings.MLAUDIT_MLFLOW_SYNC_TIME_LIMIT,
)
def sync_connection(self, sync_id: int) -> str | None:
    retries = self.request.retries
    final = bool(self.request.is_eager) or retries >= settings.MLAUDIT_MLFLOW_SYNC_MAX_RETRIES
    try:
        sync = services.sync_execute(sync_id=sync_id, final_attempt=final)
    except services.SyncRetry as exc:
        delay = retry_delay(retries)
        log.info(
            "MLflow sync %s: transient failure (%s); retry %s in %.1fs", sync_id, exc.error.kind, retries + 1, delay
        )
        raise self.retry(countdown=delay, exc=exc) from None
    except SoftTimeLimitExceeded:
        services.sync_mark_failed(
            sync_id=sync_id,
            kind="time_limit",
            message=_("Stopped after {seconds} s.").format(seconds=settings.MLAUDIT_MLFLOW_SYNC_TIME_LIMIT),
        )
        return "failed"
    except Exception:
        log.exception("MLflow sync %s failed unexpectedly", sync_id)
        services.sync_mark_failed(sync_id=sync_id, kind="internal", message=_("Internal error; see the worker log."))
        raise
    return sync.state if sync else None


@shared_task(name="mlflow_evidence.dispatch_due_syncs", acks_late=True, time_limit=120)
def dispatch_due_syncs() -> int:
    """Run by Celery beat: queue the scheduled syncs whose time has come."""
    return len(services.syncs_dispatch_due())
