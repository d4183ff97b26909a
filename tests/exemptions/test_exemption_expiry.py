"""Exemptions over time: carried into a new audit, expiring, flagged on the project page, notified."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from audits.exemptions.expiry import notify_expiring_exemptions
from audits.exemptions.selectors import exemptions_expiring, project_exemption_flags
from audits.exemptions.services import exemption_decide
from audits.models import Answer, ChannelKind, Delivery, Notification, NotificationChannel
from audits.selectors import audit_score
from audits.services import audit_start, audit_submit
from tests.exemptions.conftest import answer_all, in_days, request_exemption

pytestmark = pytest.mark.django_db


def submitted_with_exemption(manager, editor, project, rubric, *, expires_in=30, code="model-6"):
    audit = audit_start(actor=manager, project=project, rubric=rubric)
    answer_all(editor, audit, except_codes=(code,))
    request_exemption(editor, audit, code=code, expires_on=in_days(expires_in))
    exemption_decide(actor=manager, audit=audit, item_code=code, decision="approve")
    return audit_submit(actor=manager, audit=audit)


def test_an_approved_exemption_is_carried_into_a_new_audit_for_confirmation_and_still_counts(
    manager, editor, project, rubric
):
    submitted_with_exemption(manager, editor, project, rubric)
    new = audit_start(actor=manager, project=project, rubric=rubric, copy_from_latest=True)
    carried = Answer.objects.get(audit=new, item__code="model-6")
    assert carried.carried_over
    assert (carried.status, carried.exemption_state, carried.expires_on) == ("not_applicable", "approved", in_days(30))
    assert carried.decision_by == manager
    assert audit_score(audit=new).exempted == ("model-6",)


def test_an_exemption_that_expired_is_carried_but_does_not_count(manager, editor, project, rubric):
    old = submitted_with_exemption(manager, editor, project, rubric)
    Answer.objects.filter(audit=old, item__code="model-6").update(expires_on=in_days(-2))
    new = audit_start(actor=manager, project=project, rubric=rubric, copy_from_latest=True)
    result = audit_score(audit=new)
    assert result.exempted == ()
    assert result.final == Decimal(6)


def test_confirming_an_expired_carried_exemption_unchanged_keeps_it_not_counting(manager, editor, project, rubric):
    old = submitted_with_exemption(manager, editor, project, rubric)
    Answer.objects.filter(audit=old, item__code="model-6").update(expires_on=in_days(-2))
    new = audit_start(actor=manager, project=project, rubric=rubric, copy_from_latest=True)
    confirmed = request_exemption(editor, new, expires_on=None)
    assert not confirmed.carried_over
    assert audit_score(audit=new).exempted == ()


def test_asking_again_with_a_new_expiry_makes_an_expired_exemption_pending(manager, editor, project, rubric):
    old = submitted_with_exemption(manager, editor, project, rubric)
    Answer.objects.filter(audit=old, item__code="model-6").update(expires_on=in_days(-2))
    new = audit_start(actor=manager, project=project, rubric=rubric, copy_from_latest=True)
    asked = request_exemption(editor, new, expires_on=in_days(60))
    assert (asked.exemption_state, asked.expires_on, asked.decision_by) == ("pending", in_days(60), None)


def test_a_submitted_audits_score_stays_as_it_was_submitted_after_its_exemption_expires(
    manager, editor, project, rubric
):
    old = submitted_with_exemption(manager, editor, project, rubric, expires_in=1)
    # Submitted ten days ago, when the exemption (which expired five days ago) still counted.
    old.submitted_at = timezone.now() - timedelta(days=10)
    old.save(update_fields=["submitted_at"])
    Answer.objects.filter(audit=old, item__code="model-6").update(expires_on=timezone.localdate() - timedelta(days=5))
    assert audit_score(audit=old).final == old.final_score == Decimal(7)
    new = audit_start(actor=manager, project=project, rubric=rubric, copy_from_latest=True)
    assert audit_score(audit=new).final == Decimal(6), "but it stops counting in new audits"


def test_the_project_page_flags_expired_and_soon_expiring_exemptions_only(manager, editor, project, rubric):
    audit = audit_start(actor=manager, project=project, rubric=rubric)
    for code, days in (("model-6", 10), ("data-1", 100), ("infra-2", 0)):
        request_exemption(editor, audit, code=code, expires_on=in_days(days))
        exemption_decide(actor=manager, audit=audit, item_code=code, decision="approve")
    audit_submit(actor=manager, audit=audit)
    Answer.objects.filter(audit=audit, item__code="infra-2").update(expires_on=in_days(-1))
    project.refresh_from_db()
    flags = project_exemption_flags(project=project, today=timezone.localdate())
    assert [(f.code, f.expired, f.days_left) for f in flags] == [("infra-2", True, -1), ("model-6", False, 10)]


def test_the_project_page_shows_the_flag(client, manager, editor, project, rubric):
    submitted_with_exemption(manager, editor, project, rubric, expires_in=5)
    client.force_login(manager)
    page = client.get(f"/projects/{project.slug}/").content.decode()
    assert 'data-exemption-flag="model-6"' in page
    assert "expires in 5 days" in page
    assert "includes 1 exemption" in page


def test_expiring_exemptions_are_those_of_the_latest_submitted_audit_within_the_window(
    manager, editor, project, rubric
):
    submitted_with_exemption(manager, editor, project, rubric, expires_in=14)
    today = timezone.localdate()
    assert [a.item.code for a in exemptions_expiring(within_days=14, today=today)] == ["model-6"]
    assert list(exemptions_expiring(within_days=13, today=today)) == []
    draft = audit_start(actor=manager, project=project, rubric=rubric, copy_from_latest=True)
    assert draft.answers.filter(item__code="model-6").exists()
    assert len(exemptions_expiring(within_days=14, today=today)) == 1, "a draft's copy is not notified again"


def test_the_team_is_notified_fourteen_days_before_and_on_the_day_once_each(manager, editor, project, rubric):
    audit = submitted_with_exemption(manager, editor, project, rubric, expires_in=14)
    channel = NotificationChannel.objects.create(
        team=project.team, kind=ChannelKind.EMAIL, address="ml-team@example.com", events=["exemption_expiring"]
    )
    answer = Answer.objects.get(audit=audit, item__code="model-6")
    today = timezone.localdate()
    assert notify_expiring_exemptions(today=today) == 1
    assert notify_expiring_exemptions(today=today + timedelta(days=1)) == 1  # a re-run the next day
    on_the_day = today + timedelta(days=14)
    notify_expiring_exemptions(today=on_the_day)
    notify_expiring_exemptions(today=on_the_day)
    keys = sorted(Notification.objects.filter(event="exemption_expiring").values_list("key", flat=True))
    expiry = answer.expires_on.isoformat()
    assert keys == [f"exemption:{answer.pk}:{expiry}:14d", f"exemption:{answer.pk}:{expiry}:today"]
    assert Delivery.objects.filter(channel=channel).count() == 2
    notification = Notification.objects.get(key__endswith=":today")
    assert (notification.project, notification.audit) == (project, audit)
    assert notification.context["item"] == "model-6"
    assert notify_expiring_exemptions(today=on_the_day + timedelta(days=1)) == 0, "expired: nothing more to say"


def test_the_beat_runs_the_expiry_task_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["exemptions-notify-expiring"]
    assert entry["task"] == "exemptions.notify_expiring"
    schedule = entry["schedule"]
    assert (schedule.hour, schedule.minute, len(schedule.day_of_week)) == ({7}, {0}, 7)


def test_the_task_runs_the_notifications_for_today(manager, editor, project, rubric):
    from audits.exemptions.tasks import notify_expiring_exemptions as task

    submitted_with_exemption(manager, editor, project, rubric, expires_in=0)
    assert task.apply().get() == 1
    assert Notification.objects.filter(event="exemption_expiring", key__endswith=":today").count() == 1


def test_the_weekly_digest_lists_the_teams_exemptions_that_expire_soon(manager, editor, project, rubric):
    from audits.notifications.digest import digest_for

    submitted_with_exemption(manager, editor, project, rubric, expires_in=9)
    sections = {section.key: section for section in digest_for(project.team, today=timezone.localdate())}
    assert sections["exemptions_expiring"].lines == [f"Search ranking: model-6 expires {in_days(9).isoformat()}"]
