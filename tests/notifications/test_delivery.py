"""Delivering the ledger: exactly once through retries and re-sends, pauses after failures, opt-outs."""

from __future__ import annotations

import json

import pytest

from audits.models import Delivery, DeliveryState, NotificationChannel, WebhookPayload
from audits.models.notifications import CHANNEL_PAUSE_AFTER_FAILURES
from audits.notifications import notify
from audits.notifications.channels import channel_update, preference_set
from audits.notifications.delivery import DeliveryRetry, delivery_attempt
from audits.notifications.tasks import deliver_notification, resend_pending
from tests.notifications.conftest import SECRET, email_channel, webhook_channel

pytestmark = pytest.mark.django_db

CONTEXT = {"title": "Search ranking regressed", "lines": ["Final 2.5 → 1.5"], "final": 1.5, "previous_final": 2.5}


def recorded(project, event="regression", key="audit:1", **kwargs) -> list[Delivery]:
    """Notify without running the queued tasks, and return the ledger rows."""
    notify(event=event, project=project, key=key, context=CONTEXT, **kwargs)
    return list(Delivery.objects.order_by("pk"))


def test_a_failed_attempt_is_retried_and_the_retry_delivers_once(project, receiver):
    webhook_channel(project.team, receiver.url, ["regression"])
    (row,) = recorded(project)
    receiver.statuses = [503]
    with pytest.raises(DeliveryRetry):
        delivery_attempt(delivery_id=row.pk, final_attempt=False)
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.PENDING, 1)
    assert "503" in row.last_error
    delivery_attempt(delivery_id=row.pk, final_attempt=False)
    delivery_attempt(delivery_id=row.pk, final_attempt=False)  # a redelivered message: nothing more is sent
    deliver_notification.apply(args=[row.pk])  # and the task itself, run again
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.SENT, 2)
    assert len(receiver.received) == 1
    assert receiver.signed_by(SECRET, receiver.received[0])


def test_the_beat_resends_only_deliveries_whose_task_was_lost(project, smtp):
    email_channel(project.team, "ml@example.com", ["regression"])
    (row,) = recorded(project)
    Delivery.objects.filter(pk=row.pk).update(created_at="2026-01-01T00:00:00Z")
    assert resend_pending.apply().get() == 1  # eager here: the resend delivers at once
    assert resend_pending.apply().get() == 0
    notify(event="regression", project=project, key="audit:1", context=CONTEXT)  # and the producer again
    assert len(smtp.messages) == 1
    row.refresh_from_db()
    assert row.state == DeliveryState.SENT


def test_a_4xx_answer_is_not_retried(project, receiver):
    webhook_channel(project.team, receiver.url, ["regression"])
    (row,) = recorded(project)
    receiver.statuses = [410]
    delivery_attempt(delivery_id=row.pk, final_attempt=False)
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 1)
    assert "410" in row.last_error


def test_a_channel_failing_again_and_again_is_paused_with_the_reason_and_a_manager_resumes_it(
    project, manager, receiver
):
    channel = webhook_channel(project.team, receiver.url, ["regression"])
    receiver.statuses = [500] * CHANNEL_PAUSE_AFTER_FAILURES
    for n in range(CHANNEL_PAUSE_AFTER_FAILURES):
        notify(event="regression", project=project, key=f"audit:{n}", context=CONTEXT)
        row = Delivery.objects.get(notification__key=f"audit:{n}")
        delivery_attempt(delivery_id=row.pk, final_attempt=True)
    channel.refresh_from_db()
    assert channel.is_paused
    assert f"{CHANNEL_PAUSE_AFTER_FAILURES} failed deliveries" in channel.paused_reason
    assert "500" in channel.paused_reason
    notify(event="regression", project=project, key="audit:while-paused", context=CONTEXT)
    assert not Delivery.objects.filter(notification__key="audit:while-paused").exists()
    channel_update(actor=manager, channel=channel, paused=False)
    notify(event="regression", project=project, key="audit:resumed", context=CONTEXT)
    row = Delivery.objects.get(notification__key="audit:resumed")
    delivery_attempt(delivery_id=row.pk, final_attempt=True)
    row.refresh_from_db()
    assert row.state == DeliveryState.SENT
    assert len(receiver.received) == 1


def test_a_success_resets_the_failures_in_a_row(project, receiver):
    channel = webhook_channel(project.team, receiver.url, ["regression"])
    receiver.statuses = [500] * (CHANNEL_PAUSE_AFTER_FAILURES - 1)
    for n in range(CHANNEL_PAUSE_AFTER_FAILURES + 1):
        notify(event="regression", project=project, key=f"audit:{n}", context=CONTEXT)
        row = Delivery.objects.get(notification__key=f"audit:{n}")
        delivery_attempt(delivery_id=row.pk, final_attempt=True)
    channel.refresh_from_db()
    assert not channel.is_paused and channel.consecutive_failures == 0


def test_a_user_who_opted_out_gets_no_email_but_the_team_webhook_still_fires(project, manager, smtp, receiver):
    email_channel(project.team, manager.email, ["regression"])
    webhook_channel(project.team, receiver.url, ["regression"])
    preference_set(user=manager, email_opt_out=True)
    notify(event="item_assigned", project=project, key="item:1", recipients=[manager])
    notify(event="regression", project=project, key="audit:1", context=CONTEXT)
    for row in Delivery.objects.all():
        delivery_attempt(delivery_id=row.pk, final_attempt=True)
    assert smtp.messages == []
    assert len(receiver.received) == 1
    states = sorted(Delivery.objects.values_list("state", "last_error"))
    assert [s for s, _ in states] == [DeliveryState.SENT, DeliveryState.SKIPPED, DeliveryState.SKIPPED]
    assert all("opted out" in e for s, e in states if s == DeliveryState.SKIPPED)
    preference_set(user=manager, email_opt_out=False)
    notify(event="item_assigned", project=project, key="item:2", recipients=[manager])
    delivery_attempt(delivery_id=Delivery.objects.get(notification__key="item:2").pk, final_attempt=True)
    assert [m["X-Envelope-To"] for m in smtp.messages] == [manager.email]


def test_an_smtp_server_refusing_for_now_is_retried(project, smtp):
    email_channel(project.team, "ml@example.com", ["regression"])
    (row,) = recorded(project)
    smtp.refuse = 1
    with pytest.raises(DeliveryRetry):
        delivery_attempt(delivery_id=row.pk, final_attempt=False)
    delivery_attempt(delivery_id=row.pk, final_attempt=False)
    assert len(smtp.messages) == 1
    assert "Search ranking regressed" in smtp.messages[0]["Subject"]
    assert "Final 2.5 → 1.5" in smtp.messages[0].get_content()


def test_an_address_refused_after_it_was_saved_is_refused_when_sending(project, receiver, settings):
    webhook_channel(project.team, receiver.url, ["regression"])
    settings.MLAUDIT_MLFLOW_DENIED_HOSTS = ["127.0.0.1"]  # e.g. the name now resolves somewhere forbidden
    (row,) = recorded(project)
    delivery_attempt(delivery_id=row.pk, final_attempt=False)  # not retried: retrying changes nothing
    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED and "MLAUDIT_MLFLOW_DENIED_HOSTS" in row.last_error
    assert receiver.received == []


def test_the_json_body_carries_the_contracts_fields(project, receiver):
    webhook_channel(project.team, receiver.url, ["regression"])
    (row,) = recorded(project)
    delivery_attempt(delivery_id=row.pk, final_attempt=True)
    body = json.loads(receiver.received[0].body)
    assert {"event", "project", "audit", "final", "previous_final", "band", "previous_band", "url"} <= set(body)
    assert (body["event"], body["project"], body["final"], body["previous_final"]) == (
        "regression",
        "search-ranking",
        1.5,
        2.5,
    )
    assert body["url"].startswith("http")


def test_a_slack_channel_gets_text_and_blocks_unsigned(project, receiver):
    webhook_channel(project.team, receiver.url, ["regression"], payload=WebhookPayload.SLACK)
    (row,) = recorded(project)
    delivery_attempt(delivery_id=row.pk, final_attempt=True)
    request = receiver.received[0]
    body = json.loads(request.body)
    assert body["text"].startswith("Search ranking regressed")
    assert body["blocks"][0]["type"] == "section"
    assert "X-Mlaudit-Signature" not in request.headers


def test_deleting_a_channel_leaves_its_queued_task_nothing_to_do(project, receiver):
    channel = webhook_channel(project.team, receiver.url, ["regression"])
    (row,) = recorded(project)
    NotificationChannel.objects.filter(pk=channel.pk).delete()
    assert delivery_attempt(delivery_id=row.pk, final_attempt=True) is None
    assert receiver.received == []


def test_an_unexpected_error_marks_the_delivery_failed_instead_of_leaving_it_pending(project, receiver, monkeypatch):
    from audits.notifications import messages

    webhook_channel(project.team, receiver.url, ["regression"])
    (row,) = recorded(project)

    def broken(notification):
        raise KeyError("a bug")

    monkeypatch.setattr(messages, "json_body", broken)
    result = deliver_notification.apply(args=[row.pk], throw=False)  # as a worker runs it: failure handlers run
    assert isinstance(result.result, KeyError)
    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED and "Internal error" in row.last_error


def test_a_secret_the_keys_no_longer_decrypt_fails_the_delivery_with_the_reason(project, receiver, settings):
    webhook_channel(project.team, receiver.url, ["regression"])
    (row,) = recorded(project)
    settings.SECRET_KEY = "rotated-without-keeping-the-old-key"
    delivery_attempt(delivery_id=row.pk, final_attempt=False)
    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED and "cannot be decrypted" in row.last_error
    assert receiver.received == []
