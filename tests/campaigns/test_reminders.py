"""Reminders at 14, 7 and 1 days before the due date, for projects not meeting the target, keyed once each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audits.campaigns.reminders import active_campaign_ids, campaign_reminders_send, reminder_point
from audits.campaigns.services import campaign_create
from audits.models import CAMPAIGN_REMINDER_DAYS, Campaign, Notification
from tests.campaigns.conftest import statuses_for_final, submit_audit, today

pytestmark = pytest.mark.django_db


def test_reminder_points_are_fourteen_seven_and_one_days_and_a_missed_day_is_caught_up():
    assert CAMPAIGN_REMINDER_DAYS == (14, 7, 1)
    assert [reminder_point(days) for days in (20, 15, 14, 13, 8, 7, 2, 1, 0, -1)] == [
        None,
        None,
        14,
        14,
        14,
        7,
        7,
        1,
        1,
        None,
    ]


@pytest.fixture
def due_in_seven(manager, team, ads, rubric) -> Campaign:
    return campaign_create(
        actor=manager,
        name="Week left",
        target="Reasonably tested",
        teams=[team, ads],
        starts_on=today() - timedelta(days=20),
        due_on=today() + timedelta(days=7),
    )


def test_projects_behind_the_target_get_one_reminder_per_point(manager, project, bidder, codes, due_in_seven):
    submit_audit(project=bidder, actor=manager, statuses=statuses_for_final(codes, "3"))
    submit_audit(project=project, actor=manager, statuses=statuses_for_final(codes, "1.5"))

    sent = campaign_reminders_send(campaign_id=due_in_seven.pk)
    again = campaign_reminders_send(campaign_id=due_in_seven.pk)

    reminders = Notification.objects.filter(event="campaign_reminder")
    assert (sent, again) == (1, 1)  # the second run finds the same event: recorded once
    assert list(reminders.values_list("key", flat=True)) == [f"campaign:{due_in_seven.pk}:{project.pk}:7"]
    context = reminders.get().context
    assert context["days_left"] == 7 and context["target"] == "Reasonably tested"
    assert context["next_steps_count"] == 4 and context["final"] == "1.5"
    due_in_seven.refresh_from_db()
    assert due_in_seven.reminders_checked_on == today()


def test_no_reminder_between_points_or_before_the_start(manager, project, team, rubric):
    quiet = campaign_create(
        actor=manager, name="Quiet", target="2", teams=[team], starts_on=today(), due_on=today() + timedelta(days=20)
    )
    later = campaign_create(
        actor=manager,
        name="Later",
        target="2",
        teams=[team],
        starts_on=today() + timedelta(days=1),
        due_on=today() + timedelta(days=2),
    )
    assert campaign_reminders_send(campaign_id=quiet.pk) == 0
    assert campaign_reminders_send(campaign_id=later.pk) == 0
    assert active_campaign_ids() == [quiet.pk]
    assert not Notification.objects.exists()


def test_the_daily_beat_entry_names_registered_tasks(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["campaigns-dispatch-reminders"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks and "campaigns.send_reminders" in app.tasks
    assert entry["schedule"] == 24 * 60 * 60


def test_the_dispatcher_sends_one_task_per_running_campaign_after_commit(
    manager, project, codes, due_in_seven, django_capture_on_commit_callbacks
):
    from audits.campaigns.tasks import dispatch_campaign_reminders
    from config.celery import app

    submit_audit(project=project, actor=manager, statuses=statuses_for_final(codes, "1"))
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the embedded mode: the task runs in-process
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert dispatch_campaign_reminders() == 1
    finally:
        app.conf.task_always_eager = eager
    assert len(callbacks) == 1
    assert list(Notification.objects.values_list("key", flat=True)) == [f"campaign:{due_in_seven.pk}:{project.pk}:7"]
