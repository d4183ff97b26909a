"""No sync stays queued or running forever: lost workers, deadlines, time limits, redelivery, a broker down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import TimeLimitExceeded
from django.utils import timezone

from integrations.mlflow import services
from integrations.mlflow.models import SyncRun, SyncState, SyncTrigger
from integrations.mlflow.tasks import dispatch_due_syncs, sync_connection
from tests.mlflow.conftest import celery_broker

pytestmark = pytest.mark.django_db


def test_an_active_sync_past_its_deadline_is_failed_and_sync_now_starts_a_new_one(manager, project):
    connection = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9")
    stuck = SyncRun.objects.create(
        connection=connection, project=project, trigger=SyncTrigger.USER, state=SyncState.RUNNING, attempts=1,
        deadline=timezone.now() - timedelta(seconds=1),
    )  # fmt: skip
    fresh = services.sync_request(actor=manager, connection=connection)
    stuck.refresh_from_db()
    assert fresh.pk != stuck.pk and fresh.state == SyncState.QUEUED
    assert (stuck.state, stuck.error_kind) == (SyncState.FAILED, "worker_lost")
    assert "The worker stopped before finishing" in stuck.error and stuck.finished_at is not None


def test_a_running_sync_within_its_deadline_is_the_one_sync_now_returns(manager, project):
    connection = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9")
    running = SyncRun.objects.create(
        connection=connection, project=project, trigger=SyncTrigger.USER, state=SyncState.RUNNING, attempts=1,
        deadline=timezone.now() + timedelta(seconds=60), queued_at=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    assert services.sync_request(actor=manager, connection=connection).pk == running.pk


def test_a_sync_delivered_again_after_all_its_attempts_is_failed_instead_of_run_again(manager, project, settings):
    connection = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9")
    sync = SyncRun.objects.create(
        connection=connection, project=project, trigger=SyncTrigger.USER, state=SyncState.RUNNING,
        attempts=settings.MLAUDIT_MLFLOW_SYNC_MAX_RETRIES + 1, deadline=timezone.now() + timedelta(seconds=60),
    )  # fmt: skip
    services.sync_execute(sync_id=sync.pk, final_attempt=False)
    sync.refresh_from_db()
    assert (sync.state, sync.error_kind, sync.attempts) == (
        SyncState.FAILED, "worker_lost", settings.MLAUDIT_MLFLOW_SYNC_MAX_RETRIES + 1,
    )  # fmt: skip


def test_the_beat_dispatcher_fails_the_syncs_whose_worker_is_gone(manager, project):
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", schedule="off"
    )
    gone = SyncRun.objects.create(
        connection=connection, project=project, trigger=SyncTrigger.USER, state=SyncState.RUNNING,
        deadline=timezone.now() - timedelta(seconds=1),
    )  # fmt: skip
    alive = SyncRun.objects.create(
        connection=connection, project=project, trigger=SyncTrigger.USER, state=SyncState.RUNNING,
        deadline=timezone.now() + timedelta(seconds=60),
    )  # fmt: skip
    assert dispatch_due_syncs() == 0
    gone.refresh_from_db()
    alive.refresh_from_db()
    assert (gone.state, alive.state) == (SyncState.FAILED, SyncState.RUNNING)


def test_a_time_limit_ends_the_sync_failed_with_the_limit_named(manager, project, settings):
    connection = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9")
    sync = SyncRun.objects.create(
        connection=connection, project=project, trigger=SyncTrigger.USER, state=SyncState.RUNNING
    )
    sync_connection.on_failure(TimeLimitExceeded(930), "task-id", (sync.pk,), {}, None)
    sync.refresh_from_db()
    assert (sync.state, sync.error_kind) == (SyncState.FAILED, "time_limit")
    assert str(settings.MLAUDIT_MLFLOW_SYNC_TIME_LIMIT) in sync.error


def test_a_finished_sync_is_left_alone_when_its_task_is_delivered_again(manager, project):
    connection = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9")
    sync = SyncRun.objects.create(
        connection=connection, project=project, trigger=SyncTrigger.USER, state=SyncState.SUCCEEDED
    )
    services.sync_execute(sync_id=sync.pk, final_attempt=True)
    sync.refresh_from_db()
    assert sync.state == SyncState.SUCCEEDED and sync.attempts == 0


def test_a_sync_that_cannot_be_queued_is_marked_failed_instead_of_waiting_forever(
    manager, project, django_capture_on_commit_callbacks
):
    connection = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9")
    with celery_broker("redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(execute=True):  # port 1: nobody
        sync = services.sync_request(actor=manager, connection=connection)
    sync.refresh_from_db()
    assert (sync.state, sync.error_kind) == (SyncState.FAILED, "broker")
