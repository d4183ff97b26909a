"""The events mlaudit raises by itself: regressions at submit, audits due and overdue, failing sources, digests."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from audits.models import Delivery, DeliveryState, Notification, NotificationEvent, Project
from audits.notifications import digest, producers
from audits.services import answers_bulk_upsert, audit_start, audit_submit
from tests.api.conftest import KNOWN_FINAL, known_answers
from tests.notifications.conftest import SECRET, email_channel, webhook_channel

pytestmark = pytest.mark.django_db


def submit(manager, project, rubric, changes: dict[str, str] | None = None, *, copy: bool = False):
    audit = audit_start(actor=manager, project=project, rubric=rubric, copy_from_latest=copy)
    entries = known_answers()
    for entry in entries:
        if entry["item"] in (changes or {}):
            entry["status"] = (changes or {})[str(entry["item"])]
    answers_bulk_upsert(actor=manager, audit=audit, entries=entries)
    return audit_submit(actor=manager, audit=audit)


def test_a_worse_audit_is_a_regression_received_once_by_webhook_and_email(
    project, manager, rubric, smtp, receiver, django_capture_on_commit_callbacks
):
    webhook_channel(project.team, receiver.url, ["regression"])
    email_channel(project.team, "ml-team@example.com", ["regression"])
    with django_capture_on_commit_callbacks(execute=True):
        first = submit(manager, project, rubric)
    assert not Notification.objects.exists()  # nothing to compare with
    # model-1 automated → not done: model drops 2.5 → 1.5, the final (the weakest section) 2.5 → 1.5.
    with django_capture_on_commit_callbacks(execute=True):
        second = submit(manager, project, rubric, {"model-1": "not_done", "data-4": "not_done"})
    (request,) = receiver.received
    assert receiver.signed_by(SECRET, request)
    body = json.loads(request.body)
    assert (body["event"], body["project"], body["audit"]) == ("regression", "search-ranking", second.pk)
    assert (body["previous_final"], body["final"]) == (KNOWN_FINAL, 1.5)
    assert body["band"] == second.band_label and body["previous_band"] == first.band_label
    assert body["url"].endswith(f"/audits/{second.pk}/")
    assert {d["section"] for d in body["context"]["sections_dropped"]} == {"data", "model"}
    assert {d["item"] for d in body["context"]["items_dropped"]} == {"model-1", "data-4"}
    (mail,) = smtp.messages
    text = mail.get_content()
    assert mail["Subject"] == "[mlaudit] Search ranking: the score dropped from 2.5 to 1.5"
    assert "Final score 2.5 → 1.5." in text
    assert "Section Tests for model development: 2.5 → 1.5." in text
    assert "Section Tests for features and data: 3.5 → 3." in text
    assert "model-1 Model specs are reviewed and submitted: Automated and repeated → Not done." in text
    assert "data-4 Features adhere to meta-level requirements: Manual, documented and shared → Not done." in text
    assert "infra-1" not in text  # unchanged items are not listed
    # The task run again (a retry, a redelivery) sends nothing more.
    assert producers.regression_check(audit_id=second.pk) is True
    assert len(receiver.received) == 1 and len(smtp.messages) == 1
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_an_equal_or_better_audit_is_no_regression(project, manager, rubric, django_capture_on_commit_callbacks):
    email_channel(project.team, "ml-team@example.com", ["regression"])
    with django_capture_on_commit_callbacks(execute=True):
        submit(manager, project, rubric, {"model-1": "not_done"})
        submit(manager, project, rubric)
        submit(manager, project, rubric)
    assert not Notification.objects.exists()


def test_a_lower_item_that_leaves_the_final_score_unchanged_is_no_regression(project, manager, rubric):
    submit(manager, project, rubric)
    later = submit(manager, project, rubric, {"infra-1": "manual"})  # infra 4 → 3.5, the final stays 2.5
    assert producers.regression_check(audit_id=later.pk) is False


def set_last_audit(project: Project, days_ago: int, cadence: int = 90) -> None:
    Project.objects.filter(pk=project.pk).update(
        last_audit_at=timezone.now() - timedelta(days=days_ago), audit_cadence_days=cadence
    )


def events(kind: str | None = None) -> list[tuple[str, str]]:
    rows = Notification.objects.order_by("pk").values_list("event", "key")
    return [(e, k.split(":")[0]) for e, k in rows if kind is None or e == kind]


def test_the_daily_scan_reminds_14_days_before_on_the_day_and_once_overdue(project, smtp):
    email_channel(project.team, "ml-team@example.com", ["audit_due", "audit_overdue"])
    set_last_audit(project, days_ago=0, cadence=30)
    today = timezone.localdate()
    assert producers.due_scan(today=today) == 0  # due in 30 days: nothing yet
    assert producers.due_scan(today=today + timedelta(days=16)) == 1  # due in 14 days
    assert producers.due_scan(today=today + timedelta(days=17)) == 0  # still "due soon": already told
    assert producers.due_scan(today=today + timedelta(days=30)) == 1  # due today
    assert producers.due_scan(today=today + timedelta(days=30)) == 0  # beat ran twice
    assert producers.due_scan(today=today + timedelta(days=31)) == 1  # overdue
    assert producers.due_scan(today=today + timedelta(days=45)) == 0  # overdue once per due date
    assert events() == [("audit_due", "due-soon"), ("audit_due", "due-today"), ("audit_overdue", "overdue")]
    titles = list(Notification.objects.order_by("pk").values_list("context__title", flat=True))
    due = (today + timedelta(days=30)).isoformat()
    assert titles == [
        f"Search ranking: audit due in 14 days ({due})",
        f"Search ranking: audit due today ({due})",
        f"Search ranking: audit overdue since {due}",
    ]


def test_a_new_audit_moves_the_due_date_and_its_reminders_fire_again(project):
    set_last_audit(project, days_ago=100, cadence=90)
    producers.due_scan()
    set_last_audit(project, days_ago=0, cadence=90)
    producers.due_scan(today=timezone.localdate() + timedelta(days=80))
    assert events() == [("audit_overdue", "overdue"), ("audit_due", "due-soon")]


def test_the_due_scan_reads_a_fixed_number_of_queries_for_projects_already_reminded(
    team, django_assert_max_num_queries
):
    for n in range(30):
        project = Project.objects.create(team=team, name=f"P{n}", slug=f"p{n}")
        set_last_audit(project, days_ago=100, cadence=90)
    producers.due_scan()
    with django_assert_max_num_queries(32):  # the project list plus one "already told?" per overdue project
        assert producers.due_scan() == 0


def test_three_failed_syncs_in_a_row_notify_the_team_once(
    project, manager, settings, smtp, django_capture_on_commit_callbacks
):
    from integrations.mlflow import services

    settings.MLAUDIT_MLFLOW_HTTP_RETRIES = 0
    email_channel(project.team, "ml-team@example.com", ["source_failing"])
    connection = services.connection_create(
        actor=manager, project=project, name="prod", tracking_uri="http://127.0.0.1:9", experiments=["churn"]
    )
    for attempt in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            sync = services.sync_request(actor=manager, connection=connection)
        assert sync.state == "failed"
        assert Notification.objects.filter(event=NotificationEvent.SOURCE_FAILING).count() == (attempt >= 2)
    (mail,) = smtp.messages
    assert "the MLflow connection prod failed 3 times in a row" in mail["Subject"]
    assert "Last error" in mail.get_content()


def test_the_weekly_digest_lists_scores_due_and_overdue_once_per_week(
    team, project, manager, rubric, smtp, django_capture_on_commit_callbacks
):
    email_channel(team, "ml-team@example.com", ["digest"])
    submit(manager, project, rubric)
    late = Project.objects.create(team=team, name="Fraud", slug="fraud")
    set_last_audit(late, days_ago=100, cadence=90)
    soon = Project.objects.create(team=team, name="Churn", slug="churn")
    set_last_audit(soon, days_ago=80, cadence=90)
    with django_capture_on_commit_callbacks(execute=True):
        assert digest.digests_send() == 1
        assert digest.digests_send() == 1  # a re-run the same week records nothing new
    (mail,) = smtp.messages
    text = mail.get_content()
    assert "weekly digest" in mail["Subject"]
    assert "Scores submitted this week: Search ranking: 2.5" in text
    assert "Audits due soon: Churn: due" in text
    assert "Audits overdue: Fraud: overdue since" in text
    assert Notification.objects.filter(event="digest").count() == 1


def test_a_digest_is_made_of_the_listed_sections_that_have_something_to_say(team, project):
    def expiring(team, since, today):
        return digest.DigestSection("expiring", "Exemptions expiring", [f"{team.name}: model-6 on {today}"])

    def nothing(team, since, today):
        return None

    sections = digest.digest_for(team, today=date(2026, 12, 3), sections=(nothing, expiring))
    assert [s.key for s in sections] == ["expiring"]
    assert sections[0].lines == ["Ranking: model-6 on 2026-12-03"]


def test_a_team_with_nothing_to_report_gets_no_digest(team):
    assert digest.digests_send() == 0
    assert not Notification.objects.exists()
