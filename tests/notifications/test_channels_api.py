"""GET, POST /api/v1/teams/{slug}/notification-channels/ and PATCH, DELETE …/{id}/, per the issue's contract."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from audits.api.tokens import api_token_create
from audits.models import Delivery, NotificationChannel
from audits.notifications import notify
from integrations.mlflow.crypto import decrypt_secret
from tests.notifications.conftest import email_channel

pytestmark = pytest.mark.django_db
LIST = "/api/v1/teams/ranking/notification-channels/"
WEBHOOK = {"kind": "webhook", "url": "https://hooks.example.com/x", "payload": "json", "events": ["regression"]}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def resolvable(settings, monkeypatch):
    """hooks.example.com resolves to a public documentation address (no DNS is asked; nothing is sent)."""
    import socket

    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def as_user(user) -> APIClient:
    client = APIClient()
    if user is not None:
        _token, key = api_token_create(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_manager_adds_a_webhook_and_sees_its_secret_once(manager, resolvable):
    response = as_user(manager).post(LIST, WEBHOOK, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] and body["kind"] == "webhook" and body["events"] == ["regression"]
    assert body["secret"].startswith("whsec_")
    channel = NotificationChannel.objects.get(pk=body["id"])
    assert body["secret"] not in channel.secret_encrypted  # encrypted at rest
    assert decrypt_secret(channel.secret_encrypted) == body["secret"]
    listed = as_user(manager).get(LIST).json()
    assert [c["id"] for c in listed] == [body["id"]]
    assert "secret" not in json.dumps(listed)


def test_a_manager_adds_an_email_channel(manager):
    response = as_user(manager).post(
        LIST, {"kind": "email", "address": "ml@example.com", "events": ["digest", "audit_due"]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"] is None and body["address"] == "ml@example.com" and body["url"] is None
    assert body["events"] == ["audit_due", "digest"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "email", "address": "not-an-address", "events": ["digest"]}, "address"),
        ({"kind": "email", "address": "a@example.com", "events": []}, "events"),
        ({"kind": "email", "address": "a@example.com", "events": ["score_went_up"]}, "events"),
        ({"kind": "pigeon", "events": ["digest"]}, "kind"),
        ({**WEBHOOK, "url": "ftp://hooks.example.com/x"}, "url"),
        ({**WEBHOOK, "payload": "xml"}, "payload"),
        ({**WEBHOOK, "url": "http://169.254.169.254/latest/meta-data/"}, "url"),
        ({**WEBHOOK, "url": "http://metadata.google.internal/"}, "url"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(manager, resolvable, payload, field):
    response = as_user(manager).post(LIST, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not NotificationChannel.objects.exists()


def test_a_url_the_address_guard_refuses_is_refused_with_the_reason(manager, settings):
    settings.MLAUDIT_MLFLOW_DENIED_HOSTS = ["127.0.0.0/8"]
    response = as_user(manager).post(LIST, {**WEBHOOK, "url": "http://127.0.0.1:9/hook"}, format="json")
    assert response.status_code == 400
    assert "MLAUDIT_MLFLOW_DENIED_HOSTS" in response.json()["error"]["fields"]["url"][0]
    settings.MLAUDIT_MLFLOW_DENIED_HOSTS = []
    response = as_user(manager).post(LIST, {**WEBHOOK, "url": "http://169.254.169.254/"}, format="json")
    assert "link-local" in response.json()["error"]["fields"]["url"][0]


def test_patch_changes_events_and_resumes_a_paused_channel(team, manager):
    channel = email_channel(team, "ml@example.com", ["digest"])
    NotificationChannel.objects.filter(pk=channel.pk).update(
        paused_at="2026-12-01T00:00:00Z", paused_reason="Paused after 3 failed deliveries", consecutive_failures=3
    )
    url = f"{LIST}{channel.pk}/"
    response = as_user(manager).patch(url, {"events": ["regression"], "paused": False}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["events"] == ["regression"]
    assert response.json()["paused"] is False and response.json()["paused_reason"] == ""
    channel.refresh_from_db()
    assert channel.consecutive_failures == 0 and channel.paused_at is None


def test_patch_refuses_a_bad_address_and_keeps_the_old_one(team, manager):
    channel = email_channel(team, "ml@example.com", ["digest"])
    response = as_user(manager).patch(f"{LIST}{channel.pk}/", {"address": "nope"}, format="json")
    assert response.status_code == 400 and "address" in response.json()["error"]["fields"]
    channel.refresh_from_db()
    assert channel.address == "ml@example.com"


def test_delete_removes_the_channel_and_its_deliveries(team, project, manager, django_capture_on_commit_callbacks):
    channel = email_channel(team, "ml@example.com", ["digest"])
    with django_capture_on_commit_callbacks(execute=False):
        notify(event="digest", project=project, key="week")
    response = as_user(manager).delete(f"{LIST}{channel.pk}/")
    assert response.status_code == 204
    assert not NotificationChannel.objects.exists() and not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("anonymous", 401, 401),
        ("outsider", 404, 404),
        ("viewer", 403, 403),
        ("editor", 403, 403),
        ("manager", 200, 201),
        ("staff", 200, 201),
    ],
)
def test_only_managers_see_and_change_channels(request, team, role, read, write):
    user = None if role == "anonymous" else request.getfixturevalue(role)
    request.getfixturevalue("manager")
    channel = email_channel(team, "ml@example.com", ["digest"])
    client = as_user(user)
    assert client.get(LIST).status_code == read
    created = client.post(LIST, {"kind": "email", "address": "b@example.com", "events": ["digest"]}, format="json")
    assert created.status_code == write
    patched = client.patch(f"{LIST}{channel.pk}/", {"events": ["regression"]}, format="json")
    assert patched.status_code == (200 if write == 201 else write)
    assert client.delete(f"{LIST}{channel.pk}/").status_code == (204 if write == 201 else write)
    if write != 201:
        channel.refresh_from_db()
        assert channel.events == ["digest"]
    assert NotificationChannel.objects.filter(address="b@example.com").exists() == (write == 201)


def test_errors_use_the_one_envelope(manager):
    response = as_user(manager).patch(f"{LIST}999999/", {"events": ["digest"]}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    response = as_user(manager).post(LIST, {"kind": "email", "events": "digest"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
