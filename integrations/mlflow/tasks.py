"""Celery tasks: they take ids and call integrations.mlflow.jobs; Celery's own options decide about retrying.

services.py sends these tasks; nothing here imports services, so the two never import each other.
"""

from __future__ import annotations

import logging
from typing import Any

import kombu.exceptions
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.utils.translation import gettext as _

from integrations.mlflow import jobs
from integrations.mlflow.models import SyncRun

log = logging.getLogger(__name__)


class SyncTask(Task):
    """Retries transient MLflow failures with Celery's exponential backoff, and records how a sync ended.

    Late acknowledgement with reject_on_worker_lost: a message whose worker process died goes back to the queue
    (at once when a pool child dies; after the broker's visibility timeout when the whole worker dies), and
    the redelivered task continues the sync or, after too many deliveries, fails it (jobs.sync_execute).
    """

    autoretry_for = (jobs.SyncRetry,)
    retry_backoff = settings.MLAUDIT_MLFLOW_SYNC_RETRY_BASE
    retry_backoff_max = int(settings.MLAUDIT_MLFLOW_SYNC_RETRY_MAX)
    retry_jitter = True
    max_retries = settings.MLAUDIT_MLFLOW_SYNC_MAX_RETRIES
    acks_late = True
    reject_on_worker_lost = True
    soft_time_limit = settings.MLAUDIT_MLFLOW_SYNC_TIME_LIMIT
    time_limit = settings.MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """Called when retries are spent, on a time limit (the hard one from the worker's main process) and
        on any other error: the sync says why it stopped instead of staying "running"."""
        sync_id = kwargs.get("sync_id", args[0] if args else None)
        if sync_id is None:
            return
        if isinstance(exc, jobs.SyncRetry):
            kind, message = exc.kind, exc.message
        elif isinstance(exc, SoftTimeLimitExceeded | TimeLimitExceeded):
            kind = jobs.TIME_LIMIT
            message = _("Stopped after {seconds} s.").format(seconds=settings.MLAUDIT_MLFLOW_SYNC_TIME_LIMIT)
        else:
            log.error("MLflow sync %s failed unexpectedly: %r", sync_id, exc, exc_info=getattr(einfo, "exc_info", None))
            kind, message = jobs.INTERNAL, _("Internal error; see the worker log.")
        jobs.sync_mark_failed(sync_id=int(sync_id), kind=kind, message=message)


@shared_task(bind=True, base=SyncTask, name="mlflow_evidence.sync_connection")
def sync_connection(self: SyncTask, sync_id: int) -> str | None:
    # Run in-process (the embedded mode, no broker), a retry would block the request that sent it: fail now.
    sync = jobs.sync_execute(sync_id=sync_id, final_attempt=bool(self.request.is_eager))
    return sync.state if sync else None


def enqueue_sync(sync: SyncRun) -> None:
    """Send a sync's task (jobs.sync_open calls this after commit). If the broker cannot take it, the sync is
    recorded failed, here and in the database, instead of waiting as "queued" for a task that never comes."""
    try:
        sync_connection.delay(sync.pk)
    except kombu.exceptions.OperationalError as exc:  # kombu's error for any broker connection failure
        log.warning("MLflow sync %s could not be queued: %s: %s", sync.pk, type(exc).__name__, exc)
        jobs.finish_failed(sync.pk, jobs.BROKER, jobs.task_queue_unreachable_message())
        sync.refresh_from_db()
        return
    if sync_connection.app.conf.task_always_eager:
        sync.refresh_from_db()  # it already ran in this process: answer with its outcome, not "queued"


@shared_task(name="mlflow_evidence.dispatch_due_syncs", acks_late=True, time_limit=120)
def dispatch_due_syncs() -> int:
    """Run by Celery beat: fail the syncs whose worker is gone, then queue the scheduled syncs that are due."""
    jobs.syncs_fail_expired()
    return len(jobs.syncs_dispatch_due(send=enqueue_sync))
