"""Sync requests while the broker is down: a clear 503 in the API's envelope, an error on the page, a failed sync.

The broker is a real Redis URL on a loopback port nobody listens on. The tests commit (transaction=True), as a
real request does, so the task is sent, and refused, before the answer is written.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from integrations.mlflow import services
from integrations.mlflow.models import SyncRun, SyncState
from tests.conftest import PASSWORD
from tests.mlflow.conftest import celery_broker
from tests.mlflow.server import free_port

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def broker_down():
    with celery_broker(f"redis://127.0.0.1:{free_port()}/0") as app:
        yield app


@pytest.fixture
def connection(manager, project):
    return services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9")


def test_the_api_answers_503_task_queue_unreachable_and_records_the_sync_failed(
    manager, project, connection, broker_down
):
    client = APIClient()
    client.force_authenticate(manager)
    started = time.monotonic()
    response = client.post(f"/api/v1/projects/{project.slug}/evidence/sync/")
    assert time.monotonic() - started < 5  # the publish gives up quickly instead of hanging the request
    assert response.status_code == 503
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (503, "task_queue_unreachable")
    assert "task queue is unreachable" in error["message"]
    sync = SyncRun.objects.get(connection=connection)
    assert (sync.state, sync.error_kind) == (SyncState.FAILED, "broker") and sync.finished_at is not None


def test_sync_now_shows_an_error_instead_of_queued_when_the_broker_is_down(manager, project, connection, broker_down):
    client = Client()
    client.login(username=manager.get_username(), password=PASSWORD)
    page = client.post(reverse("mlflow:sync-trigger", args=[project.slug]), follow=True)
    text = page.content.decode()
    assert "task queue is unreachable" in text and "Sync queued" not in text
    assert SyncRun.objects.get(connection=connection).state == SyncState.FAILED


def test_once_the_broker_is_back_sync_now_starts_a_new_sync(manager, project, connection, broker_down):
    client = APIClient()
    client.force_authenticate(manager)
    assert client.post(f"/api/v1/projects/{project.slug}/evidence/sync/").status_code == 503
    broker_down.conf.update(task_always_eager=True)  # the embedded mode: no broker, the task runs in-process
    response = client.post(f"/api/v1/projects/{project.slug}/evidence/sync/")
    assert response.status_code == 202
    assert SyncRun.objects.filter(connection=connection).count() == 2
    assert response.json()["sync"] != SyncRun.objects.filter(connection=connection).order_by("pk").first().pk
