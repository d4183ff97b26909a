"""Which findings may be accepted, by whom and into which audits, and the frozen snapshot an accepted one keeps."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audits.models import Answer
from audits.services import audit_start, audit_submit
from integrations.mlflow import services
from integrations.mlflow.models import AcceptedFinding, Finding, SyncRun, SyncTrigger
from tests.mlflow.conftest import make_finding, offline_connection, web_as

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick")]


def test_accepting_a_finding_copies_a_frozen_snapshot_into_the_answer(manager, editor, project, rubric):
    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.SCHEDULE)
    finding = make_finding(connection, sync, "data-1", suggested="automated")
    audit = audit_start(actor=manager, project=project)
    answer = services.finding_accept(actor=editor, audit=audit, item_code="data-1")
    assert answer.status == "automated"
    assert finding.links[0] in answer.evidence and finding.reason in answer.notes
    accepted = AcceptedFinding.objects.get(answer=answer)
    Finding.objects.filter(pk=finding.pk).update(result="fail", reason="changed later")
    accepted.refresh_from_db()
    assert accepted.snapshot["result"] == "pass" and accepted.snapshot["reason"] == "data-1 looks fine"


def test_only_passing_findings_can_be_accepted_and_only_by_editors(manager, viewer, editor, project, rubric):
    from django.core.exceptions import PermissionDenied, ValidationError

    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    make_finding(connection, sync, "model-1", result="fail")
    make_finding(connection, sync, "data-1")
    audit = audit_start(actor=manager, project=project)
    with pytest.raises(ValidationError):
        services.finding_accept(actor=editor, audit=audit, item_code="model-1")
    with pytest.raises(PermissionDenied):
        services.finding_accept(actor=viewer, audit=audit, item_code="data-1")
    assert not Answer.objects.filter(audit=audit).exists()  # nothing is answered without a person


def test_a_submitted_audit_cannot_accept_findings(manager, project, rubric):
    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    make_finding(connection, sync, "data-1")
    audit = audit_start(actor=manager, project=project)
    audit_submit(actor=manager, audit=audit)
    response = web_as(manager).post(reverse("mlflow:finding-accept", args=[audit.pk, "data-1"]))
    assert response.status_code == 302
    assert not Answer.objects.filter(audit=audit).exists()
