"""Secrets at rest, the task's retry policy, lost workers and the beat schedule."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from celery.exceptions import TimeLimitExceeded
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.utils import timezone

from integrations.mlflow import services
from integrations.mlflow.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from integrations.mlflow.jobs import SyncRetry
from integrations.mlflow.models import SyncRun, SyncState, SyncTrigger
from integrations.mlflow.tasks import dispatch_due_syncs, sync_connection
from tests.mlflow.conftest import celery_broker

pytestmark = pytest.mark.django_db


def test_secrets_round_trip_and_are_not_stored_in_clear():
    token = encrypt_secret("hunter2")
    assert "hunter2" not in token and decrypt_secret(token) == "hunter2"


def test_a_configured_key_encrypts_and_old_secrets_stay_readable_after_rotation(settings):
    old = encrypt_secret("from-secret-key")
    settings.MLAUDIT_SECRET_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    new = encrypt_secret("from-env-key")
    assert decrypt_secret(new) == "from-env-key" and decrypt_secret(old) == "from-secret-key"
    settings.MLAUDIT_SECRET_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(SecretUnreadable, match="enter it again"):
        decrypt_secret(new)


def test_a_sync_whose_secret_cannot_be_decrypted_fails_with_a_clear_reason(manager, project, settings):
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", auth={"type": "token", "token": "t"}
    )
    settings.SECRET_KEY = "rotated-without-keeping-the-old-key"
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    services.sync_execute(sync_id=sync.pk, final_attempt=False)
    sync.refresh_from_db()
    assert (sync.state, sync.error_kind) == (SyncState.FAILED, "auth")


def test_the_sync_task_uses_celerys_own_retry_options_from_the_settings(settings):
    assert sync_connection.autoretry_for == (SyncRetry,)
    assert sync_connection.max_retries == settings.MLAUDIT_MLFLOW_SYNC_MAX_RETRIES
    assert sync_connection.retry_backoff == settings.MLAUDIT_MLFLOW_SYNC_RETRY_BASE
    assert sync_connection.retry_backoff_max == settings.MLAUDIT_MLFLOW_SYNC_RETRY_MAX
    assert sync_connection.retry_jitter is True
    assert sync_connection.acks_late and sync_connection.reject_on_worker_lost
    assert sync_connection.time_limit == settings.MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT


def test_tasks_and_jobs_import_no_services_so_services_can_import_the_tasks():
    for module in ("tasks", "jobs"):
        tree = ast.parse((Path(services.__file__).parent / f"{module}.py").read_text())
        imported = {
            (node.module or "") + "." + alias.name if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not [name for name in imported if "services" in name], (module, imported)


def test_a_killed_worker_is_redelivered_well_within_an_hour_but_never_while_its_sync_may_still_run(settings):
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT < visibility <= 20 * 60
    assert visibility > settings.MLAUDIT_MLFLOW_SYNC_RETRY_MAX


def test_a_visibility_timeout_shorter_than_the_hard_time_limit_is_refused_with_a_sentence():
    env = {**os.environ, "MLAUDIT_MLFLOW_SYNC_TIME_LIMIT": "60", "MLAUDIT_TASK_VISIBILITY_TIMEOUT": "30"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "MLAUDIT_TASK_VISIBILITY_TIMEOUT (30 s) must be longer than a sync's hard time limit (90 s)" in result.stderr


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


def test_beat_runs_the_dispatcher_that_queues_due_connections():
    entry = django_settings.CELERY_BEAT_SCHEDULE["mlflow-evidence-dispatch-due-syncs"]
    from config.celery import app

    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


def test_a_new_nightly_connection_is_due_at_night(manager, project, settings):
    connection = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9")
    assert connection.schedule == "nightly"
    from django.utils import timezone

    local = timezone.localtime(connection.next_sync_at)
    assert local.hour == settings.MLAUDIT_MLFLOW_NIGHTLY_HOUR and local > timezone.localtime()
    off = services.connection_update(actor=manager, connection=connection, schedule="off")
    assert off.next_sync_at is None


def test_a_sync_that_cannot_be_queued_is_marked_failed_instead_of_waiting_forever(
    manager, project, django_capture_on_commit_callbacks
):
    connection = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9")
    with celery_broker("redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(execute=True):  # port 1: nobody
        sync = services.sync_request(actor=manager, connection=connection)
    sync.refresh_from_db()
    assert (sync.state, sync.error_kind) == (SyncState.FAILED, "broker")
