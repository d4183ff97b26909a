"""Secrets at rest, the task's retry policy and the beat schedule."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings

from integrations.mlflow import services
from integrations.mlflow.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from integrations.mlflow.models import SyncRun, SyncState, SyncTrigger
from integrations.mlflow.tasks import retry_delay
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


def test_retry_delays_grow_exponentially_with_jitter_and_a_cap(settings):
    settings.MLAUDIT_MLFLOW_SYNC_RETRY_BASE = 10
    settings.MLAUDIT_MLFLOW_SYNC_RETRY_MAX = 100
    for attempt, base in [(0, 10), (1, 20), (2, 40), (5, 100)]:
        delays = {retry_delay(attempt) for _ in range(20)}
        assert all(base <= d <= 2 * base for d in delays)
        assert len(delays) > 1


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
