"""What a worker does with a sync: run one attempt, record how it ended. integrations.mlflow.tasks calls these.

This module imports no task (services.py imports the tasks to send them), so tasks → jobs → models never
loops back. Every function takes a sync id and is safe to call twice for the same delivery: Celery acks late,
so after a lost worker the same message can arrive again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.staleness.events import live_score_check
from audits.types import User
from integrations.mlflow import alerts
from integrations.mlflow.client import Credentials, MlflowClient, MlflowError
from integrations.mlflow.crypto import SecretUnreadable, decrypt_secret
from integrations.mlflow.facts import Thresholds
from integrations.mlflow.models import (
    ACTIVE_SYNC_STATES,
    MlflowConnection,
    Schedule,
    SyncRun,
    SyncState,
    SyncTrigger,
)
from integrations.mlflow.sync import alias_history, fetch, store

log = logging.getLogger(__name__)

# error_kind values a person can act on; the others come from MlflowError.kind (unreachable, auth, ...).
BROKER = "broker"
WORKER_LOST = "worker_lost"
STALE = "stale"
TIME_LIMIT = "time_limit"
INTERNAL = "internal"


def task_queue_unreachable_message() -> str:
    return _("The task queue is unreachable, so the sync could not start; try again when the workers are back.")


def worker_lost_message() -> str:
    return _("The worker stopped before finishing this sync; start a new one.")


def client_for(connection: MlflowConnection, **overrides: Any) -> Any:
    """The REST client of the connection's tracking server."""
    credentials = Credentials(connection.auth_type, connection.username, decrypt_secret(connection.secret_encrypted))
    return MlflowClient(connection.tracking_uri, credentials, verify_tls=connection.verify_tls, **overrides)


def finish_failed(sync_id: int, kind: str, message: str) -> bool:
    """Record a failure on a sync that is still active; a finished one keeps its outcome. True if recorded."""
    recorded = bool(
        SyncRun.objects.filter(pk=sync_id, state__in=ACTIVE_SYNC_STATES).update(
            state=SyncState.FAILED, finished_at=timezone.now(), error_kind=kind[:30], error=message[:2000]
        )
    )
    if recorded:
        # Failing SOURCE_FAILING_AFTER times in a row notifies the team (integrations/mlflow/alerts.py).
        # A lambda, not functools.partial: when a robust callback fails, Django logs its __qualname__.
        transaction.on_commit(lambda: alerts.source_failing_check(sync_id=sync_id), robust=True)
    return recorded


def sync_mark_failed(*, sync_id: int, kind: str, message: str) -> None:
    finish_failed(sync_id, kind, message)


SCHEDULE_EVERY = {Schedule.HOURLY: timedelta(hours=1), Schedule.WEEKLY: timedelta(days=7)}


def schedule_next(connection: MlflowConnection, *, after: datetime | None = None) -> None:
    after = after or timezone.now()
    if connection.schedule == Schedule.NIGHTLY:
        # The next MLAUDIT_MLFLOW_NIGHTLY_HOUR o'clock, local time, strictly after `after`.
        local = timezone.localtime(after)
        night = local.replace(hour=settings.MLAUDIT_MLFLOW_NIGHTLY_HOUR, minute=0, second=0, microsecond=0)
        connection.next_sync_at = night if night > local else night + timedelta(days=1)
        return
    every = SCHEDULE_EVERY.get(Schedule(connection.schedule))
    connection.next_sync_at = after + every if every else None


# How long an active sync may go without news before it counts as abandoned ------------------------------


def _queued_too_long() -> timedelta:
    """A sync nobody started: long enough for a busy queue to reach it (every retry of the ones ahead)."""
    return timedelta(
        seconds=settings.MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT * (settings.MLAUDIT_MLFLOW_SYNC_MAX_RETRIES + 2)
    )


def _attempt_deadline(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT)


def _retry_deadline(now: datetime) -> datetime:
    """A retry waits at most MLAUDIT_MLFLOW_SYNC_RETRY_MAX, then gets a full attempt of its own."""
    return _attempt_deadline(now) + timedelta(seconds=settings.MLAUDIT_MLFLOW_SYNC_RETRY_MAX)


def sync_is_expired(sync: SyncRun, *, now: datetime | None = None) -> bool:
    """An active sync past its deadline (or, never started, queued far too long) has no worker any more."""
    now = now or timezone.now()
    if sync.state not in ACTIVE_SYNC_STATES:
        return False
    if sync.deadline is not None:
        return sync.deadline < now
    return sync.queued_at < now - _queued_too_long()


def sync_fail_expired(sync: SyncRun) -> None:
    if sync.deadline is not None:
        finish_failed(sync.pk, WORKER_LOST, worker_lost_message())
    else:
        finish_failed(sync.pk, STALE, _("No worker picked this sync up in time; start a new one."))


def syncs_fail_expired(*, now: datetime | None = None) -> int:
    """Mark failed every active sync whose worker is gone, so the pages stop showing it as running."""
    now = now or timezone.now()
    expired = [
        sync
        for sync in SyncRun.objects.filter(state__in=ACTIVE_SYNC_STATES).only("pk", "state", "deadline", "queued_at")
        if sync_is_expired(sync, now=now)
    ]
    for sync in expired:
        sync_fail_expired(sync)
    return len(expired)


# Opening a sync ---------------------------------------------------------------------------------------------

Send = Callable[[SyncRun], None]


def sync_open(*, connection: MlflowConnection, trigger: str, requested_by: User | None, send: Send) -> SyncRun:
    """The connection's active sync, or a new one whose task `send` sends once the new row is committed.

    `send` is passed in (tasks.enqueue_sync) because this module must not import the tasks that call it.
    """
    with transaction.atomic():
        MlflowConnection.objects.select_for_update().filter(pk=connection.pk).first()
        active = connection.syncs.filter(state__in=ACTIVE_SYNC_STATES).order_by("-pk").first()
        if active and not sync_is_expired(active):
            return active
        if active:
            sync_fail_expired(active)
        sync = SyncRun.objects.create(
            connection=connection, project_id=connection.project_id, trigger=trigger, requested_by=requested_by
        )
        transaction.on_commit(lambda: send(sync))
    return sync


def syncs_dispatch_due(*, send: Send, now: datetime | None = None) -> list[int]:
    """Open a scheduled sync for every connection whose time has come; returns the sync ids."""
    now = now or timezone.now()
    queued = []
    due = MlflowConnection.objects.exclude(schedule=Schedule.OFF).filter(next_sync_at__lte=now)
    for connection in due.select_related("project"):
        with transaction.atomic():
            locked = MlflowConnection.objects.select_for_update(skip_locked=True).filter(pk=connection.pk).first()
            if locked is None or (locked.next_sync_at and locked.next_sync_at > now):
                continue
            schedule_next(locked, after=now)
            locked.save(update_fields=["next_sync_at"])
        queued.append(sync_open(connection=locked, trigger=SyncTrigger.SCHEDULE, requested_by=None, send=send).pk)
    return queued


# Running a sync ---------------------------------------------------------------------------------------------


class SyncRetry(Exception):
    """A transient failure; the task tries again later (Celery's autoretry_for).

    Built from plain texts, so it pickles: the worker sends it from the pool child to the main process.
    """

    def __init__(self, kind: str, message: str):
        super().__init__(kind, message)
        self.kind, self.message = kind, message

    def __str__(self) -> str:
        return self.message


def sync_execute(*, sync_id: int, final_attempt: bool) -> SyncRun | None:
    """Run one attempt of a sync. A transient MLflow error raises SyncRetry unless this is the final attempt.

    Finished syncs are left alone, so a redelivered message changes nothing. A sync delivered again after more
    attempts than retries allow (its worker died each time, e.g. killed for memory) is failed instead of
    being run for ever.
    """
    sync = SyncRun.objects.select_related("connection").filter(pk=sync_id).first()
    if sync is None or sync.state not in ACTIVE_SYNC_STATES:
        return sync
    if sync.attempts > settings.MLAUDIT_MLFLOW_SYNC_MAX_RETRIES:
        finish_failed(sync.pk, WORKER_LOST, worker_lost_message())
        return SyncRun.objects.get(pk=sync.pk)
    now = timezone.now()
    SyncRun.objects.filter(pk=sync.pk).update(
        state=SyncState.RUNNING,
        started_at=sync.started_at or now,
        attempts=sync.attempts + 1,
        deadline=_attempt_deadline(now),
    )
    connection = sync.connection
    try:
        history = alias_history(connection)
        with client_for(connection) as client:
            fetched = fetch(
                client,
                connection,
                history,
                page_size=settings.MLAUDIT_MLFLOW_PAGE_SIZE,
                recent_runs=Thresholds.from_stored(connection.thresholds).recent_runs,
            )
        store(sync, fetched, history)
    except MlflowError as exc:
        if exc.transient and not final_attempt:
            SyncRun.objects.filter(pk=sync.pk, state=SyncState.RUNNING).update(
                error_kind=exc.kind,
                error=_("Retrying after: %(e)s") % {"e": exc.message},
                deadline=_retry_deadline(timezone.now()),
            )
            raise SyncRetry(exc.kind, exc.message) from exc
        finish_failed(sync.pk, exc.kind, exc.message)
    except SecretUnreadable as exc:
        finish_failed(sync.pk, "auth", str(exc))
    else:
        # The findings are committed: answers that rested on older evidence may be stale now.
        live_score_check(project_id=sync.project_id)
    return SyncRun.objects.get(pk=sync.pk)
