"""Fault drills of the sync worker: kill -9 of the worker, of its pool child, and of the MLflow server, mid-sync.

Each drill runs a real prefork Celery worker on Redis, a real MLflow server (behind a slow loopback proxy so the
sync lasts a few seconds) and PostgreSQL, and checks what a person sees afterwards: the sync's state in the
API, that "Sync now" can start a new sync, and that the answers and findings saved before are still there.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from rest_framework.test import APIClient

from audits.models import Answer
from audits.services import answer_save, audit_start
from integrations.mlflow import services
from integrations.mlflow.models import Finding, SyncedRun, SyncRun, SyncState
from tests.faults._worker import SlowProxy, Worker, clear_queue, finished, wait_for
from tests.mlflow.conftest import celery_broker
from tests.mlflow.server import MlflowServer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RUNS = 300
DELAY = 0.4  # seconds per request through the proxy: 6 pages of 50 runs and a few lookups, about 3 s a sync
VISIBILITY_TIMEOUT = 10
# Short limits, so a lost message comes back within seconds; the hard limit (6 + 2 s) stays below the
# visibility timeout, as config/settings.py requires.
DRILL_ENV = {
    "MLAUDIT_MLFLOW_PAGE_SIZE": "50",
    "MLAUDIT_MLFLOW_TIMEOUT": "5",
    "MLAUDIT_MLFLOW_HTTP_RETRIES": "0",
    "MLAUDIT_MLFLOW_SYNC_TIME_LIMIT": "6",
    "MLAUDIT_MLFLOW_SYNC_GRACE": "2",
    "MLAUDIT_MLFLOW_SYNC_MAX_RETRIES": "1",
    "MLAUDIT_MLFLOW_SYNC_RETRY_BASE": "1",
    "MLAUDIT_MLFLOW_SYNC_RETRY_MAX": "1",
    "MLAUDIT_TASK_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    mlflow = MlflowServer(tmp_path_factory.mktemp("mlflow-faults"))
    mlflow.start()
    experiment_id = mlflow.create_experiment("drill")
    mlflow.insert_runs(experiment_id, RUNS)
    yield mlflow
    mlflow.stop()


@pytest.fixture
def running_mlflow(server):
    """The module's server, started again if a drill killed it (only then: a start costs seconds)."""
    if server.process is None:
        server.start()
    return server


@pytest.fixture
def proxy(running_mlflow):
    slow = SlowProxy(running_mlflow.port)
    yield slow
    slow.close()


@pytest.fixture
def earlier(manager, project, proxy, rubric):
    """What a team had before the drill: a connection, a finished sync with its findings, an answer."""
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri=proxy.url, experiments=["drill"], schedule="off"
    )
    first = services.sync_request(actor=manager, connection=connection)
    services.sync_execute(sync_id=first.pk, final_attempt=True)
    first.refresh_from_db()
    assert first.state == SyncState.SUCCEEDED, first.error
    # The rubric fixture reloads the built-in rubric if a transactional test before this one flushed it.
    audit = audit_start(actor=manager, project=project, rubric=rubric)
    answer = answer_save(
        actor=manager, audit=audit, item_code="data-1", status="manual", notes="Schema reviewed.", base_version=0
    )
    findings = sorted(Finding.objects.filter(connection=connection).values_list("item_code", "result", "sync_id"))
    assert findings
    return connection, answer, findings


@pytest.fixture
def worker(tmp_path, request):
    queue = f"mlaudit-faults-{request.node.name[-40:]}"
    clear_queue(queue)
    drill_worker = Worker(tmp_path, queue, DRILL_ENV)
    drill_worker.start()
    with celery_broker(drill_worker.env["CELERY_BROKER_URL"]) as app:
        app.conf.task_default_queue = queue
        yield drill_worker
    drill_worker.stop()
    clear_queue(queue)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def sync_now(user, project) -> int:
    response = api(user).post(f"/api/v1/projects/{project.slug}/evidence/sync/")
    assert response.status_code == 202, response.content
    return int(response.json()["sync"])


def api_state(user, sync_id: int) -> dict:
    response = api(user).get(f"/api/v1/evidence-syncs/{sync_id}/")
    assert response.status_code == 200
    return response.json()


def start_slow_sync(manager, project, proxy) -> SyncRun:
    proxy.delay = DELAY
    sync = SyncRun.objects.get(pk=sync_now(manager, project))
    wait_for(sync, lambda s: s.state == SyncState.RUNNING, 15, "started")
    time.sleep(1.0)  # inside the sync: some pages read, most not
    return sync


def assert_saved_work_kept(connection, answer, findings=None) -> None:
    kept = Answer.objects.get(pk=answer.pk)
    assert (kept.status, kept.notes, kept.version) == (answer.status, answer.notes, answer.version)
    assert SyncedRun.objects.filter(connection=connection).count() == RUNS  # no run lost, none duplicated
    if findings is not None:
        now = sorted(Finding.objects.filter(connection=connection).values_list("item_code", "result", "sync_id"))
        assert now == findings


def test_a_worker_killed_mid_sync_is_redelivered_after_its_restart_and_the_sync_finishes(
    manager, project, proxy, earlier, worker
):
    connection, answer, _findings = earlier
    sync = start_slow_sync(manager, project, proxy)
    worker.kill_everything()
    killed_at = time.monotonic()
    assert api_state(manager, sync.pk)["state"] == "running"
    assert sync_now(manager, project) == sync.pk  # the sync may still come back: no second one piles up

    worker.start()
    sync = wait_for(sync, finished, VISIBILITY_TIMEOUT + 15, "finished")
    assert time.monotonic() - killed_at < VISIBILITY_TIMEOUT + 15  # not kombu's default hour
    state = api_state(manager, sync.pk)
    assert (state["state"], state["attempts"], state["runs_read"]) == ("succeeded", 2, RUNS), state
    assert_saved_work_kept(connection, answer)
    assert sync_now(manager, project) != sync.pk


def test_a_pool_child_killed_mid_sync_is_run_again_and_never_left_running(manager, project, proxy, earlier, worker):
    connection, answer, _findings = earlier
    sync = start_slow_sync(manager, project, proxy)
    os.kill(worker.pool_child(), signal.SIGKILL)
    sync = wait_for(sync, finished, 20, "finished")
    state = api_state(manager, sync.pk)
    assert (state["state"], state["attempts"]) == ("succeeded", 2), state
    assert "WorkerLostError" in worker.log() or "exited prematurely" in worker.log()
    assert_saved_work_kept(connection, answer)
    assert sync_now(manager, project) != sync.pk


def test_an_mlflow_server_killed_mid_sync_ends_the_sync_failed_and_keeps_earlier_findings(
    manager, project, proxy, earlier, worker, running_mlflow
):
    connection, answer, findings = earlier
    sync = start_slow_sync(manager, project, proxy)
    running_mlflow.kill()  # started again by the next drill that needs it (running_mlflow)
    sync = wait_for(sync, finished, 20, "finished")
    state = api_state(manager, sync.pk)
    assert (state["state"], state["error_kind"]) == ("failed", "unreachable"), state
    assert state["error"].startswith("Could not reach the MLflow server")
    assert state["attempts"] == 2  # the first attempt and its one retry
    assert_saved_work_kept(connection, answer, findings)
    assert sync_now(manager, project) != sync.pk
