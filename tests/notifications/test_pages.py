"""The team's notifications page (managers) and the user's own email preference on their profile."""

from __future__ import annotations

import pytest
from django.test import Client

from audits.models import ChannelKind, Delivery, NotificationChannel, NotificationPreference, Project
from audits.notifications import notify
from integrations.mlflow.crypto import decrypt_secret
from tests.notifications.conftest import email_channel, webhook_channel

pytestmark = pytest.mark.django_db
PAGE = "/teams/ranking/notifications/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("role", "status"), [("manager", 200), ("staff", 200), ("editor", 403), ("viewer", 403), ("outsider", 404)]
)
def test_only_managers_open_the_notifications_page(request, team, role, status):
    request.getfixturevalue("manager")
    response = client_for(request.getfixturevalue(role)).get(PAGE)
    assert response.status_code == status
    response = client_for(request.getfixturevalue(role)).post(
        PAGE, {"kind": "email", "address": "x@example.com", "events": ["digest"]}
    )
    assert response.status_code == (302 if status == 200 else status)


def test_the_team_page_links_managers_to_notifications(team, manager, viewer):
    assert PAGE in client_for(manager).get("/teams/ranking/").content.decode()
    assert PAGE not in client_for(viewer).get("/teams/ranking/").content.decode()


def test_a_manager_adds_an_email_channel_in_the_browser(team, manager):
    response = client_for(manager).post(
        PAGE, {"kind": "email", "address": "ml@example.com", "events": ["regression", "digest"]}, follow=True
    )
    assert response.status_code == 200
    channel = NotificationChannel.objects.get()
    assert (channel.kind, channel.address, channel.events) == (
        ChannelKind.EMAIL,
        "ml@example.com",
        ["regression", "digest"],
    )
    assert "ml@example.com" in response.content.decode()


def test_a_new_webhooks_secret_is_shown_once(team, manager, receiver):
    client = client_for(manager)
    response = client.post(PAGE, {"kind": "webhook", "url": receiver.url, "payload": "json", "events": ["regression"]})
    assert response.status_code == 200
    secret = decrypt_secret(NotificationChannel.objects.get().secret_encrypted)
    assert secret in response.content.decode()
    assert secret not in client.get(PAGE).content.decode()


def test_a_webhook_url_the_guard_refuses_is_a_form_error_with_the_reason(team, manager):
    response = client_for(manager).post(
        PAGE, {"kind": "webhook", "url": "http://169.254.169.254/latest/", "payload": "json", "events": ["regression"]}
    )
    assert response.status_code == 400
    assert "link-local or metadata address" in response.content.decode()
    assert not NotificationChannel.objects.exists()


def test_a_paused_channel_shows_why_and_a_manager_resumes_it(team, manager, receiver):
    channel = webhook_channel(team, receiver.url, ["regression"])
    NotificationChannel.objects.filter(pk=channel.pk).update(
        paused_at="2026-12-01T00:00:00Z", paused_reason="Paused after 3 failed deliveries in a row; the last: HTTP 500"
    )
    client = client_for(manager)
    assert "Paused after 3 failed deliveries in a row; the last: HTTP 500" in client.get(PAGE).content.decode()
    response = client.post(f"{PAGE}{channel.pk}/resume/")
    assert response.status_code == 302
    channel.refresh_from_db()
    assert not channel.is_paused


def test_a_manager_removes_a_channel(team, manager):
    channel = email_channel(team, "ml@example.com", ["digest"])
    assert client_for(manager).post(f"{PAGE}{channel.pk}/delete/").status_code == 302
    assert not NotificationChannel.objects.exists()


def test_a_member_cannot_resume_or_remove_a_channel(team, manager, editor):
    channel = email_channel(team, "ml@example.com", ["digest"])
    assert client_for(editor).post(f"{PAGE}{channel.pk}/delete/").status_code == 403
    assert client_for(editor).post(f"{PAGE}{channel.pk}/resume/").status_code == 403
    assert NotificationChannel.objects.filter(pk=channel.pk).exists()


def test_the_page_lists_recent_deliveries_with_their_state_in_a_fixed_number_of_queries(
    team, manager, django_assert_max_num_queries
):
    client = client_for(manager)
    email_channel(team, "ml@example.com", ["regression", "audit_due"])
    webhook_channel(team, "https://hooks.example.com/x", ["regression"])

    def add(n: int) -> None:
        for i in range(n):
            project = Project.objects.create(
                team=team, name=f"P{Project.objects.count()}", slug=f"p-{Project.objects.count()}"
            )
            notify(
                event="regression", project=project, key=f"audit:{project.pk}:{i}", context={"title": f"Dropped {i}"}
            )

    add(2)
    with django_assert_max_num_queries(12) as few:
        client.get(PAGE)
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PAGE)
    page = response.content.decode()
    assert page.count("data-delivery=") == 44 and "Pending" in page and "Dropped 19" in page


def test_a_user_opts_out_of_email_on_their_profile(manager):
    client = client_for(manager)
    page = client.get("/account/").content.decode()
    assert "Send me no notification email" in page and 'id="id_email_opt_out" checked' not in page
    assert client.post("/account/notifications/", {"email_opt_out": "on"}).status_code == 302
    assert NotificationPreference.objects.get(user=manager).email_opt_out is True
    assert 'id="id_email_opt_out" checked' in client.get("/account/").content.decode()
    client.post("/account/notifications/", {})
    assert NotificationPreference.objects.get(user=manager).email_opt_out is False
    assert not Delivery.objects.exists()


def test_operators_see_channels_and_the_ledger_in_the_admin_without_the_secret(admin_client, team, project):
    channel = webhook_channel(team, "https://hooks.example.com/x", ["regression"])
    notify(event="regression", project=project, key="audit:1")
    for url in [
        "/admin/audits/notificationchannel/",
        f"/admin/audits/notificationchannel/{channel.pk}/change/",
        "/admin/audits/notification/",
        "/admin/audits/delivery/",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert channel.secret_encrypted not in response.content.decode()
