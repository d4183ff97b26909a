"""The contract every producer relies on: notify() records an event once and delivers it once per channel."""

from __future__ import annotations

import json

import pytest

from audits.models import Delivery, DeliveryState, Notification, NotificationEvent
from audits.notifications import notify
from tests.notifications.conftest import SECRET, email_channel, webhook_channel

pytestmark = pytest.mark.django_db


def test_the_event_vocabulary_is_the_contracts():
    assert set(NotificationEvent.values) == {
        "regression",
        "audit_due",
        "audit_overdue",
        "exemption_expiring",
        "live_score_drop",
        "source_failing",
        "digest",
        "campaign_reminder",
        "item_assigned",
    }


def test_notify_records_one_ledger_row_per_subscribed_channel_and_delivers_after_commit(
    project, smtp, receiver, django_capture_on_commit_callbacks
):
    mail = email_channel(project.team, "ml-team@example.com", ["regression", "audit_due"])
    hook = webhook_channel(project.team, receiver.url, ["regression"])
    webhook_channel(project.team, receiver.url, ["digest"])  # not subscribed to regressions
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(event="regression", project=project, key="audit:1", context={"title": "Score dropped", "final": 1.5})
    assert Notification.objects.count() == 1
    assert {d.channel_id for d in Delivery.objects.all()} == {mail.pk, hook.pk}
    assert smtp.messages == [] and receiver.received == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    assert [m["Subject"] for m in smtp.messages] == ["[mlaudit] Score dropped"]
    assert smtp.messages[0]["X-Envelope-To"] == "ml-team@example.com"
    (request,) = receiver.received
    assert receiver.signed_by(SECRET, request)
    assert json.loads(request.body)["final"] == 1.5


def test_notifying_the_same_key_twice_delivers_once(project, smtp, django_capture_on_commit_callbacks):
    email_channel(project.team, "ml-team@example.com", ["audit_due"])
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            notify(event="audit_due", project=project, key="due-14:2026-12-17", context={"title": "Due"})
    assert Notification.objects.count() == 1
    assert Delivery.objects.get().state == DeliveryState.SENT
    assert len(smtp.messages) == 1


def test_a_channel_subscribed_later_gets_an_event_notified_again(project, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(event="digest", project=None, team=project.team, key="week:2026-49")
    email_channel(project.team, "late@example.com", ["digest"])
    with django_capture_on_commit_callbacks(execute=True):
        notify(event="digest", project=None, team=project.team, key="week:2026-49")
    assert [m["X-Envelope-To"] for m in smtp.messages] == ["late@example.com"]


def test_recipients_are_mailed_at_their_own_address(project, manager, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(event="item_assigned", project=project, key="item:model-6:mara", recipients=[manager])
    assert [m["X-Envelope-To"] for m in smtp.messages] == [manager.email]


def test_an_unknown_event_is_refused(project):
    with pytest.raises(ValueError):
        notify(event="score_went_up", project=project, key="x")
    assert not Notification.objects.exists()


def test_nothing_is_sent_when_the_writers_transaction_rolls_back(project, smtp, django_capture_on_commit_callbacks):
    from django.db import transaction

    email_channel(project.team, "ml-team@example.com", ["regression"])
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(event="regression", project=project, key="audit:9")
        raise RuntimeError("the submit failed")
    assert callbacks == [] and smtp.messages == []
    assert not Notification.objects.exists()


def test_every_beat_entry_names_a_registered_task():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "notifications.scan_due_audits",
        "notifications.send_weekly_digests",
        "notifications.resend_pending",
    } <= names
    assert names <= set(app.tasks)
