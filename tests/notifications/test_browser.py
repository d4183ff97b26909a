"""A manager in real Chromium: add channels, get a regression by webhook and email once, see it on the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from audits.models import NotificationChannel
from tests.notifications.conftest import email_channel
from tests.notifications.test_producers import submit
from tests.web.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
expect.set_options(timeout=10_000)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_a_manager_sets_up_channels_and_sees_a_regression_delivered_once(
    page, live_server, team, project, manager, rubric, receiver, smtp
):
    sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/teams/{team.slug}/")
    page.click("text=Notifications")
    page.check("input[name=kind][value=webhook]")
    page.fill("#id_url", receiver.url)
    page.check("input[name=events][value=regression]")
    page.click("main button:text('Add channel')")
    secret = page.locator("[data-testid=new-secret]").inner_text()
    assert secret.startswith("whsec_")
    page.check("input[name=kind][value=email]")
    page.fill("#id_address", "ml-team@example.com")
    page.click("main button:text('Add channel')")
    expect(page.locator("text=Channel added: ml-team@example.com.")).to_be_visible()
    assert page.locator("[data-testid=new-secret]").count() == 0  # the secret is never shown again

    submit(manager, project, rubric)
    submit(manager, project, rubric, {"model-1": "not_done"})
    page.reload()
    sent = page.locator("tr[data-delivery] .tag--sent")
    expect(sent).to_have_count(2)
    expect(page.locator("tr[data-delivery]").first).to_contain_text("the score dropped from 2.5 to 1.5")
    (request,) = receiver.received
    assert receiver.signed_by(secret, request)
    assert len(smtp.messages) == 1


def test_a_manager_resumes_a_paused_channel_from_the_page(page, live_server, team, manager):
    channel = email_channel(team, "ml-team@example.com", ["digest"])
    NotificationChannel.objects.filter(pk=channel.pk).update(
        paused_at="2026-12-01T00:00:00Z", paused_reason="Paused after 3 failed deliveries in a row; the last: HTTP 500"
    )
    sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/teams/{team.slug}/notifications/")
    expect(page.locator("[data-testid=paused-reason]")).to_have_text(
        "Paused after 3 failed deliveries in a row; the last: HTTP 500"
    )
    page.click("button:text('Resume')")
    expect(page.locator(f"tr[data-channel='{channel.pk}'] .tag--submitted")).to_have_text("Active")
    channel.refresh_from_db()
    assert not channel.is_paused
