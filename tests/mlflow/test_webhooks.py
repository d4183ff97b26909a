"""Registry webhooks: signed deliveries from MLflow, replays, the exact alias history, the setup page and API.

Deliveries are signed with MLflow's own signing function (mlflow.webhooks.delivery), and the live test has a
real `mlflow server` deliver its registry events to a live mlaudit.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from mlflow.webhooks.delivery import _generate_hmac_signature
from rest_framework.test import APIClient

from integrations.mlflow import services, webhooks
from integrations.mlflow.alias_events import AliasChange, Polled, merge
from integrations.mlflow.crypto import decrypt_secret
from integrations.mlflow.facts import AliasSighting
from integrations.mlflow.models import AliasEvent, SyncRun, SyncState, SyncTrigger, WebhookDelivery
from integrations.mlflow.sync import alias_history
from tests.mlflow.conftest import celery_broker, web_as
from tests.mlflow.server import MlflowServer

MODEL = "fraud-model"
REDIS_URL = os.environ.get("MLFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def connection_with_secret(project, manager, **fields):
    fields.setdefault("registered_models", [MODEL])
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", schedule="off", **fields
    )
    return connection, webhooks.webhook_secret_rotate(actor=manager, connection=connection)


def delivery(secret: str, event: str, data: dict, *, sent: datetime | None = None, delivery_id: str | None = None):
    """Body and headers exactly as MLflow's delivery code builds them."""
    sent = sent or datetime.now(UTC)
    entity, action = event.split(".")
    body = json.dumps({"entity": entity, "action": action, "timestamp": sent.isoformat(), "data": data})
    delivery_id = delivery_id or str(uuid.uuid4())
    timestamp = str(int(sent.timestamp()))
    headers = {
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": timestamp,
        "X-MLflow-Signature": _generate_hmac_signature(secret, delivery_id, timestamp, body),
    }
    return body, headers


def post(connection, body: str, headers: dict):
    url = reverse("mlflow:webhook", args=[connection.webhook_token])
    django_headers = {"HTTP_" + key.upper().replace("-", "_"): value for key, value in headers.items()}
    return Client().post(url, data=body, content_type="application/json", **django_headers)


def nothing_recorded(connection) -> bool:
    return not WebhookDelivery.objects.filter(connection=connection).exists() and not AliasEvent.objects.exists()


# The merge of polled sightings and reported changes (pure) ------------------------------------------------


def test_a_reported_alias_change_appears_at_its_exact_time_between_two_syncs():
    first = Polled(started_ms=900, sighting=AliasSighting(seen_ms=1000, aliases={MODEL: {"champion": 1}}))
    second = Polled(started_ms=4900, sighting=AliasSighting(seen_ms=5000, aliases={MODEL: {"champion": 2}}))
    merged = merge([first, second], [AliasChange(2500, MODEL, "champion", 2)])
    assert [(s.seen_ms, s.aliases[MODEL]["champion"]) for s in merged] == [(1000, 1), (2500, 2), (5000, 2)]


def test_a_change_reported_while_a_sync_was_reading_is_not_undone_by_what_the_sync_read_before_it():
    before = Polled(started_ms=0, sighting=AliasSighting(seen_ms=100, aliases={MODEL: {"champion": 1}}))
    # The sync began at 1000, read champion=1, and finished at 3000; the alias moved to 2 at 2000.
    racing = Polled(started_ms=1000, sighting=AliasSighting(seen_ms=3000, aliases={MODEL: {"champion": 1}}))
    merged = merge([before, racing], [AliasChange(2000, MODEL, "champion", 2)])
    assert [s.aliases[MODEL]["champion"] for s in merged] == [1, 2, 2]


def test_a_deleted_alias_leaves_the_history_and_other_models_keep_their_aliases():
    polled = [Polled(0, AliasSighting(seen_ms=10, aliases={MODEL: {"champion": 1, "challenger": 2}}))]
    changes = [AliasChange(20, MODEL, "challenger", None), AliasChange(30, "other-model", "champion", 7)]
    merged = merge(polled, changes)
    assert merged[-1].aliases == {MODEL: {"champion": 1}, "other-model": {"champion": 7}}


def test_without_webhooks_the_history_is_what_the_syncs_saw():
    polled = [Polled(0, AliasSighting(seen_ms=10, aliases={MODEL: {"champion": 1}}))]
    assert merge(polled, []) == [AliasSighting(seen_ms=10, aliases={MODEL: {"champion": 1}})]


# Receiving deliveries ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_alias_delivery_records_the_alias_and_queues_a_webhook_sync(project, manager):
    connection, secret = connection_with_secret(project, manager)
    sent = datetime.now(UTC) - timedelta(seconds=5)
    body, headers = delivery(
        secret, "model_version_alias.created", {"name": MODEL, "alias": "champion", "version": "3"}, sent=sent
    )
    response = post(connection, body, headers)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    event = AliasEvent.objects.get(connection=connection)
    assert (event.model_name, event.alias, event.version) == (MODEL, "champion", 3)
    assert abs((event.at - sent).total_seconds()) < 0.001  # the payload's own time, to the microsecond
    sync = SyncRun.objects.get(connection=connection)
    assert sync.trigger == SyncTrigger.WEBHOOK and sync.state == SyncState.QUEUED
    assert response.json()["sync"] == sync.pk


@pytest.mark.django_db
def test_a_bad_signature_answers_401_in_the_error_envelope_and_changes_nothing(project, manager):
    connection, _secret = connection_with_secret(project, manager)
    body, headers = delivery(
        "not-the-secret", "model_version_alias.created", {"name": MODEL, "alias": "champion", "version": "3"}
    )
    response = post(connection, body, headers)
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401 and response.json()["error"]["code"] == "bad_signature"
    assert nothing_recorded(connection) and not SyncRun.objects.exists()


@pytest.mark.django_db
def test_a_body_changed_after_signing_is_refused(project, manager):
    connection, secret = connection_with_secret(project, manager)
    body, headers = delivery(
        secret, "model_version_alias.created", {"name": MODEL, "alias": "champion", "version": "3"}
    )
    response = post(connection, body.replace('"3"', '"4"'), headers)
    assert response.status_code == 401 and nothing_recorded(connection)


@pytest.mark.django_db
def test_an_unsigned_delivery_and_one_before_any_secret_exists_are_refused(project, manager):
    connection, secret = connection_with_secret(project, manager)
    body, headers = delivery(secret, "model_version.created", {"name": MODEL, "version": "1"})
    unsigned = {k: v for k, v in headers.items() if k != "X-MLflow-Signature"}
    assert post(connection, body, unsigned).status_code == 401
    fresh = services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", name="no secret", schedule="off"
    )
    refused = post(fresh, body, headers)
    assert refused.status_code == 401 and "no webhook secret" in refused.json()["error"]["message"]
    assert nothing_recorded(connection) and nothing_recorded(fresh)


@pytest.mark.django_db
def test_a_stale_delivery_is_refused_even_when_its_signature_is_right(project, manager, settings):
    settings.MLAUDIT_MLFLOW_WEBHOOK_TOLERANCE = 300
    connection, secret = connection_with_secret(project, manager)
    old = datetime.now(UTC) - timedelta(minutes=6)
    body, headers = delivery(
        secret, "model_version_alias.created", {"name": MODEL, "alias": "champion", "version": "3"}, sent=old
    )
    response = post(connection, body, headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "stale"
    assert nothing_recorded(connection)


@pytest.mark.django_db
def test_a_replayed_delivery_changes_nothing(project, manager):
    connection, secret = connection_with_secret(project, manager)
    body, headers = delivery(
        secret, "model_version_alias.created", {"name": MODEL, "alias": "champion", "version": "3"}
    )
    assert post(connection, body, headers).json()["status"] == "accepted"
    SyncRun.objects.update(state=SyncState.SUCCEEDED, finished_at=timezone.now())  # a replay must not queue another
    again = post(connection, body, headers)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert AliasEvent.objects.count() == 1 and WebhookDelivery.objects.count() == 1 and SyncRun.objects.count() == 1


@pytest.mark.django_db
def test_an_unknown_webhook_address_answers_404_and_get_is_not_allowed(project, manager):
    connection, secret = connection_with_secret(project, manager)
    body, headers = delivery(secret, "model_version.created", {"name": MODEL, "version": "1"})
    django_headers = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    missing = Client().post(
        reverse("mlflow:webhook", args=["x" * 32]), data=body, content_type="application/json", **django_headers
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert Client().get(reverse("mlflow:webhook", args=[connection.webhook_token])).status_code == 405
    assert nothing_recorded(connection)


@pytest.mark.django_db
def test_a_signed_body_that_is_not_an_mlflow_payload_is_a_400(project, manager):
    connection, secret = connection_with_secret(project, manager)
    delivery_id, timestamp, body = str(uuid.uuid4()), str(int(time.time())), "[1, 2]"
    headers = {
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": timestamp,
        "X-MLflow-Signature": _generate_hmac_signature(secret, delivery_id, timestamp, body),
    }
    response = post(connection, body, headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert nothing_recorded(connection)


@pytest.mark.django_db
def test_events_of_models_the_connection_does_not_read_are_recorded_without_a_sync(project, manager):
    connection, secret = connection_with_secret(project, manager)
    body, headers = delivery(secret, "model_version_alias.deleted", {"name": "someone-elses", "alias": "champion"})
    assert post(connection, body, headers).json() == {"status": "accepted", "sync": None}
    event = AliasEvent.objects.get()
    assert event.version is None and not SyncRun.objects.exists()


@pytest.mark.django_db
def test_the_rules_alias_history_combines_syncs_and_webhook_events(project, manager):
    connection, secret = connection_with_secret(project, manager)
    start = timezone.now() - timedelta(hours=2)
    SyncRun.objects.create(
        connection=connection, project=project, trigger=SyncTrigger.SCHEDULE, state=SyncState.SUCCEEDED,
        started_at=start, finished_at=start + timedelta(seconds=5), aliases_seen={MODEL: {"champion": 1}},
    )  # fmt: skip
    moved = datetime.now(UTC) - timedelta(seconds=30)
    body, headers = delivery(
        secret, "model_version_alias.created", {"name": MODEL, "alias": "champion", "version": "2"}, sent=moved
    )
    post(connection, body, headers)
    history = alias_history(connection)
    assert [s.aliases[MODEL]["champion"] for s in history] == [1, 2]
    assert history[-1].seen_ms == int(moved.timestamp() * 1000)


# Setting it up: the connection page and the API -------------------------------------------------------------


@pytest.mark.django_db
def test_the_connection_page_shows_the_webhook_url_and_reveals_a_new_secret_only_once(project, manager, settings):
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", schedule="off"
    )
    client = web_as(manager)
    edit = client.get(reverse("mlflow:connection-edit", args=[connection.pk])).content.decode()
    assert connection.webhook_token in edit and "create_webhook" in edit and "None yet" in edit
    made = client.post(reverse("mlflow:connection-webhook-secret", args=[connection.pk]))
    assert made.status_code == 200 and made["Cache-Control"] == "no-store"
    connection.refresh_from_db()
    secret = decrypt_secret(connection.webhook_secret_encrypted)
    assert secret in made.content.decode() and secret not in connection.webhook_secret_encrypted
    again = client.get(reverse("mlflow:connection-edit", args=[connection.pk])).content.decode()
    assert secret not in again and "Set (hidden)" in again
    client.post(reverse("mlflow:connection-webhook-secret", args=[connection.pk]))
    connection.refresh_from_db()
    assert decrypt_secret(connection.webhook_secret_encrypted) != secret  # regenerated: the old one stops working


@pytest.mark.django_db
def test_only_managers_can_make_a_webhook_secret(project, manager, editor, settings):
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", schedule="off"
    )
    assert web_as(editor).post(reverse("mlflow:connection-webhook-secret", args=[connection.pk])).status_code == 403
    api = APIClient()
    api.force_authenticate(editor)
    refused = api.post(f"/api/v1/mlflow-connections/{connection.pk}/webhook-secret/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    connection.refresh_from_db()
    assert not connection.webhook_secret_encrypted


@pytest.mark.django_db
def test_the_api_shows_the_webhook_url_and_rotates_the_secret(project, manager):
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", schedule="off"
    )
    api = APIClient()
    api.force_authenticate(manager)
    shown = api.get(f"/api/v1/mlflow-connections/{connection.pk}/").json()["webhook"]
    assert shown["url"] == f"http://testserver/integrations/mlflow/webhooks/{connection.webhook_token}/"
    assert shown["has_secret"] is False and "model_version_alias.created" in shown["events"]
    rotated = api.post(f"/api/v1/mlflow-connections/{connection.pk}/webhook-secret/")
    assert rotated.status_code == 201 and rotated.json()["has_secret"] is True
    connection.refresh_from_db()
    assert rotated.json()["secret"] == decrypt_secret(connection.webhook_secret_encrypted)
    assert "secret" not in api.get(f"/api/v1/mlflow-connections/{connection.pk}/").json()["webhook"]


@pytest.mark.django_db
def test_webhook_tokens_differ_between_connections_and_are_not_the_id(project, manager):
    a = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9", name="a")
    b = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9", name="b")
    assert a.webhook_token != b.webhook_token and len(a.webhook_token) >= 32 and str(a.pk) != a.webhook_token


# A real MLflow server delivering to a live mlaudit --------------------------------------------------------


@pytest.fixture(scope="module")
def webhook_server(tmp_path_factory):
    """An MLflow server allowed to deliver webhooks over http to loopback (MLflow refuses both by default)."""
    server = MlflowServer(
        tmp_path_factory.mktemp("mlflow-webhooks"),
        env={
            "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
            "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
            "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "MLFLOW_WEBHOOK_CACHE_TTL": "0",  # see a webhook as soon as it is created
        },
    )
    server.start()
    yield server
    server.stop()


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for MLflow's delivery")


def register_version(client, run_client_module) -> str:
    mlflow = run_client_module
    with mlflow.start_run() as run:
        mlflow.log_text("flavors: {}\n", "model/MLmodel")
    return client.create_model_version(MODEL, f"{run.info.artifact_uri}/model", run_id=run.info.run_id).version


@pytest.mark.django_db(transaction=True)
def test_mlflow_delivers_registry_events_to_a_live_mlaudit(webhook_server, live_server, project, manager):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(webhook_server.url)
    mlflow.set_experiment("webhooks")
    client = MlflowClient(tracking_uri=webhook_server.url, registry_uri=webhook_server.url)
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri=webhook_server.url, registered_models=[MODEL], schedule="off"
    )
    secret = webhooks.webhook_secret_rotate(actor=manager, connection=connection)
    url = live_server.url + reverse("mlflow:webhook", args=[connection.webhook_token])

    # Syncs go to a Redis queue with no worker: this test checks they were queued, another helper runs them.
    with celery_broker(REDIS_URL) as app:
        try:
            deliveries_from_mlflow(client, connection, url, secret, mlflow)
        finally:
            app.control.purge()  # the queued syncs are this test's; no worker should pick them up later


def deliveries_from_mlflow(client, connection, url: str, secret: str, mlflow) -> None:
    hook = client.create_webhook(name="mlaudit", url=url, events=list(webhooks.EVENTS), secret=secret)
    client.create_registered_model(MODEL)
    first = register_version(client, mlflow)
    client.set_registered_model_alias(MODEL, "champion", first)
    wait_for(lambda: AliasEvent.objects.filter(connection=connection, alias="champion").exists())
    second = register_version(client, mlflow)
    client.set_model_version_tag(MODEL, second, "validation_status", "approved")
    client.set_registered_model_alias(MODEL, "champion", second)
    wait_for(lambda: AliasEvent.objects.filter(connection=connection, alias="champion").count() == 2)
    wait_for(lambda: WebhookDelivery.objects.filter(connection=connection, event="model_version_tag.set").exists())

    events = list(AliasEvent.objects.filter(connection=connection).values_list("alias", "version"))
    assert events == [("champion", int(first)), ("champion", int(second))]
    delivered = set(WebhookDelivery.objects.filter(connection=connection).values_list("event", flat=True))
    assert {"model_version.created", "model_version_alias.created", "model_version_tag.set"} <= delivered
    assert SyncRun.objects.filter(connection=connection, trigger=SyncTrigger.WEBHOOK).exists()
    history = alias_history(connection)
    assert [s.aliases[MODEL]["champion"] for s in history] == [int(first), int(second)]

    # MLflow's own test delivery (answered synchronously) with the right secret, then with a wrong one.
    assert client.test_webhook(hook.webhook_id).response_status == 200
    before = (WebhookDelivery.objects.count(), AliasEvent.objects.count(), SyncRun.objects.count())
    client.update_webhook(hook.webhook_id, secret="not-mlaudit-s-secret")
    refused = client.test_webhook(hook.webhook_id, event="model_version_alias.created")
    assert refused.response_status == 401 and '"bad_signature"' in refused.response_body
    assert (WebhookDelivery.objects.count(), AliasEvent.objects.count(), SyncRun.objects.count()) == before

    # A delivery sent twice changes nothing the second time.
    data = {"name": MODEL, "alias": "champion", "version": first}
    body, headers = delivery(secret, "model_version_alias.created", data)
    assert requests.post(url, data=body, headers=headers, timeout=10).json()["status"] == "accepted"
    counts = (WebhookDelivery.objects.count(), AliasEvent.objects.count(), SyncRun.objects.count())
    replay = requests.post(url, data=body, headers=headers, timeout=10)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert (WebhookDelivery.objects.count(), AliasEvent.objects.count(), SyncRun.objects.count()) == counts
