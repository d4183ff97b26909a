"""A real Celery worker on Redis retries a failing webhook with backoff and delivers it exactly once."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from audits.models import Delivery, DeliveryState
from audits.notifications import notify
from audits.notifications.services import queue_deliveries
from tests.mlflow.test_worker import celery_worker
from tests.notifications.conftest import SECRET, email_channel, webhook_channel

# The worker is another process: it must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

QUICK = {"MLAUDIT_NOTIFY_MAX_RETRIES": "3", "MLAUDIT_NOTIFY_RETRY_BASE": "0.2", "MLAUDIT_NOTIFY_RETRY_MAX": "0.5"}


def wait_until_done(timeout: float = 60) -> list[Delivery]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(Delivery.objects.order_by("pk"))
        if rows and all(row.state != DeliveryState.PENDING for row in rows):
            return rows
        time.sleep(0.2)
    raise AssertionError(f"still pending after {timeout}s: {[(r.pk, r.state, r.last_error) for r in rows]}")


def test_a_real_worker_retries_with_backoff_and_sends_each_delivery_once(tmp_path, project, receiver, smtp):
    webhook_channel(project.team, receiver.url, ["regression"])
    email_channel(project.team, "ml@example.com", ["regression"])
    receiver.statuses = [503, 502]  # two failures, then the endpoint is back
    smtp.refuse = 1
    env = {**QUICK, "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}"}
    with celery_worker(tmp_path, "mlaudit-test-notify", **env) as log:
        with transaction.atomic():
            notify(event="regression", project=project, key="audit:7", context={"title": "Regressed", "final": 1})
        rows = wait_until_done()
        queue_deliveries([row.pk for row in rows])  # a redelivery / beat re-send of the same rows
        time.sleep(1.5)
        worker_log = log.read_text()
    assert "notifications.deliver" in worker_log  # it ran in the worker, not in this process
    webhook, mail = sorted(Delivery.objects.all(), key=lambda row: row.channel.kind, reverse=True)
    assert (webhook.state, webhook.attempts) == (DeliveryState.SENT, 3)
    assert (mail.state, mail.attempts) == (DeliveryState.SENT, 2)
    assert len(receiver.received) == 1 and receiver.signed_by(SECRET, receiver.received[0])
    assert len(smtp.messages) == 1
