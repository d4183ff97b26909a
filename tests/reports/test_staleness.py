"""A CI report that fails an item an answer was accepted from makes the answer stale and the live score drop."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from audits.models import Notification
from audits.services import answer_save, audit_start, audit_submit
from audits.staleness.selectors import live_score
from integrations.mlflow.models import AcceptedFinding
from integrations.reports.models import Report
from tests.reports.test_push_api import push

ITEM = "infra-1"  # the JUnit fixture's test_training_is_reproducible


def test_a_failing_report_makes_the_accepted_answer_stale_and_announces_the_drop(
    client_as, manager, editor, project, rubric, junit_report, django_capture_on_commit_callbacks
):
    editor_api = client_as("editor")
    push(editor_api, junit_report(at=timezone.now() - timedelta(hours=2)), run_id="1")
    audit = audit_start(actor=manager, project=project, rubric=rubric)
    for code in rubric.items.exclude(code=ITEM).values_list("code", flat=True):
        answer_save(actor=editor, audit=audit, item_code=code, status="automated")
    accepted = editor_api.post(f"/api/v1/audits/{audit.pk}/evidence/{ITEM}/accept/", {"source": "junit"}, format="json")
    assert accepted.status_code == 200, accepted.json()
    record = AcceptedFinding.objects.get(answer__audit=audit, item_code=ITEM)
    first = Report.objects.get(project=project, run_id="1")
    assert (record.source, record.evidence_key, record.accepted_status) == ("junit", f"report:{first.pk}", "manual")
    assert record.observed_at == first.reported_at and record.model_version is None
    audit_submit(actor=manager, audit=audit)
    project.refresh_from_db()
    assert live_score(project).stale == []

    with django_capture_on_commit_callbacks(execute=True):  # the live score check is a task, run eagerly
        assert push(editor_api, junit_report(passing=False), run_id="2").status_code == 201

    live = live_score(project)
    [item] = live.stale
    assert (item.code, item.reason, item.supported) == (ITEM, "latest evidence no longer supports manual", "not_done")
    assert live.final == Decimal("6") < live.audited_final == Decimal("6.5")
    [drop] = Notification.objects.filter(event="live_score_drop", project=project)
    assert drop.key == f"live:{project.pk}:{audit.pk}:6"
    # The same report pushed again (CI's retry) is recognised and announces nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        push(editor_api, junit_report(passing=False), run_id="2")
    assert Notification.objects.filter(event="live_score_drop", project=project).count() == 1
