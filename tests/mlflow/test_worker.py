"""A real Celery worker (solo pool) on Redis runs the sync task; the test database is shared with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.db import connection as db_connection

from integrations.mlflow import services
from integrations.mlflow.models import Finding, SyncedRun, SyncRun, SyncState
from tests.mlflow.conftest import BIG_EXPERIMENT_RUNS, celery_broker
from tests.mlflow.server import free_port

REDIS_URL = os.environ.get("MLFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")

# The worker is another process: it must see committed rows, and the rubric rows the migrations
# loaded must come back after the flush at the end of each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _database_url() -> str:
    s = db_connection.settings_dict
    credentials = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def celery_worker(tmp_path: Path, queue: str, **env_overrides: str):
    """Start `celery -A config worker --pool solo` on `queue`, and point this process's app at it."""
    redis.Redis.from_url(REDIS_URL).delete(queue)
    log_path = tmp_path / f"worker-{queue}.log"
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": REDIS_URL, "CELERY_BROKER_URL": REDIS_URL}
    env.update(env_overrides)
    command = [
        str(Path(sys.executable).with_name("celery")), "-A", "config", "worker", "--pool", "solo", "-Q", queue,
        "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
    ]  # fmt: skip
    with log_path.open("ab") as log:
        worker = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "ready." not in log_path.read_text():
            assert worker.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the worker did not start: " + log_path.read_text()[-3000:]
            time.sleep(0.3)
        with celery_broker(REDIS_URL) as app:
            app.conf.task_default_queue = queue
            yield log_path
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=5)


def wait_until_finished(sync: SyncRun, timeout: float = 120) -> SyncRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sync.refresh_from_db()
        if sync.state in (SyncState.SUCCEEDED, SyncState.FAILED):
            return sync
        time.sleep(0.3)
    raise AssertionError(f"sync {sync.pk} still {sync.state} after {timeout}s: {sync.error}")


QUICK = {
    "MLAUDIT_MLFLOW_HTTP_RETRIES": "1",
    "MLAUDIT_MLFLOW_HTTP_BACKOFF": "0.05",
    "MLAUDIT_MLFLOW_SYNC_MAX_RETRIES": "2",
    "MLAUDIT_MLFLOW_SYNC_RETRY_BASE": "0.2",
    "MLAUDIT_MLFLOW_SYNC_RETRY_MAX": "0.5",
}


def test_a_real_worker_syncs_retries_a_dead_server_and_never_retries_refused_credentials(
    tmp_path, manager, project, connect, scenario
):
    good = connect(project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model])
    down = connect(project, scenario.server, tracking_uri=f"http://127.0.0.1:{free_port()}", experiments=["churn"])
    refused = connect(
        project,
        scenario.server,
        experiments=[scenario.experiment],
        auth={"type": "basic", "username": "admin", "password": "x"},
    )
    with celery_worker(tmp_path, "mlaudit-test-quick", **QUICK) as log:
        synced = wait_until_finished(services.sync_request(actor=manager, connection=good))
        failed = wait_until_finished(services.sync_request(actor=manager, connection=down))
        rejected = wait_until_finished(services.sync_request(actor=manager, connection=refused))
        worker_log = log.read_text()
    assert synced.state == SyncState.SUCCEEDED, synced.error
    assert synced.findings_written == Finding.objects.filter(connection=good).count() >= 12
    assert "mlflow_evidence.sync_connection" in worker_log  # it ran in the worker, not in this process
    assert (failed.state, failed.error_kind, failed.attempts) == (SyncState.FAILED, "unreachable", 3)
    assert not SyncedRun.objects.filter(connection=down).exists()
    assert (rejected.state, rejected.error_kind, rejected.attempts) == (SyncState.FAILED, "auth", 1)


def test_a_sync_interrupted_by_a_server_crash_completes_after_the_restart_without_duplicates(
    tmp_path, manager, project, connect, mlflow_server, big_experiment
):
    connection = connect(project, mlflow_server, experiments=[big_experiment])
    patient = {
        "MLAUDIT_MLFLOW_PAGE_SIZE": "250",  # more pages, so the crash lands mid-sync
        "MLAUDIT_MLFLOW_HTTP_RETRIES": "1",
        "MLAUDIT_MLFLOW_HTTP_BACKOFF": "0.1",
        "MLAUDIT_MLFLOW_SYNC_MAX_RETRIES": "40",  # jittered waits of up to 8 s: minutes for a restart under load
        "MLAUDIT_MLFLOW_SYNC_RETRY_BASE": "1",
        "MLAUDIT_MLFLOW_SYNC_RETRY_MAX": "8",
    }
    with celery_worker(tmp_path, "mlaudit-test-patient", **patient):
        sync = services.sync_request(actor=manager, connection=connection)
        deadline = time.monotonic() + 60
        while sync.state != SyncState.RUNNING and time.monotonic() < deadline:
            time.sleep(0.1)
            sync.refresh_from_db()
        time.sleep(1.0)
        mlflow_server.kill()
        try:
            while not sync.error.startswith("Retrying") and time.monotonic() < deadline + 60:
                time.sleep(0.2)
                sync.refresh_from_db()
            assert sync.state == SyncState.RUNNING and SyncedRun.objects.count() == 0  # nothing half-written
        finally:
            mlflow_server.start()
        sync = wait_until_finished(sync, timeout=240)
    assert sync.state == SyncState.SUCCEEDED, sync.error
    assert sync.attempts >= 2
    assert SyncedRun.objects.filter(connection=connection).count() == sync.runs_read == BIG_EXPERIMENT_RUNS
