"""CI report findings are accepted into answers through the same flow as MLflow's."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from audits.services import answer_save, audit_start
from tests.reports.test_push_api import push


def test_accepting_a_junit_finding_sets_the_suggested_answer_with_the_ci_run_as_evidence(
    client_as, manager, project, rubric, junit_report
):
    audit = audit_start(actor=manager, project=project, rubric=rubric)
    push(client_as("editor"), junit_report(), run_id="1", run_url="https://ci.example.com/1")
    editor = client_as("editor")
    url = f"/api/v1/audits/{audit.pk}/evidence/data-1/accept/"
    preview = editor.get(url, {"source": "junit"}).json()
    assert (preview["from"], preview["to"], preview["accepted"]) == (None, "manual", None)

    accepted = editor.post(url, {"source": "junit"}, format="json")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["accepted"]["this_finding"] is True
    answer = audit.answers.get(item__code="data-1")
    assert answer.status == "manual" and answer.evidence == ["https://ci.example.com/1"]
    assert "Evidence from JUnit" in answer.notes


def test_accepting_a_report_finding_that_would_lower_an_answer_needs_a_confirmation(
    client_as, manager, project, rubric, junit_report
):
    audit = audit_start(actor=manager, project=project, rubric=rubric)
    answer_save(actor=manager, audit=audit, item_code="data-1", status="automated")
    push(client_as("editor"), junit_report(at=timezone.now() - timedelta(hours=1)), run_id="1")
    url = f"/api/v1/audits/{audit.pk}/evidence/data-1/accept/"
    refused = client_as("editor").post(url, {"source": "junit"}, format="json")
    assert refused.status_code == 400 and "confirm_lower" in refused.json()["error"]["fields"]
    assert audit.answers.get(item__code="data-1").status == "automated"


def test_a_failing_report_finding_cannot_be_accepted(client_as, manager, project, rubric, junit_report):
    audit = audit_start(actor=manager, project=project, rubric=rubric)
    push(client_as("editor"), junit_report(passing=False), run_id="1")
    response = client_as("editor").post(
        f"/api/v1/audits/{audit.pk}/evidence/infra-1/accept/", {"source": "junit"}, format="json"
    )
    assert response.status_code == 400
    assert not audit.answers.filter(item__code="infra-1", status__in=["manual", "automated"]).exists()


def test_the_questionnaire_shows_report_findings_with_an_accept_button(
    client_as, editor, manager, project, rubric, junit_report
):
    audit = audit_start(actor=manager, project=project, rubric=rubric)
    push(client_as("editor"), junit_report(), run_id="1", run_url="https://ci.example.com/1")
    client = Client()
    client.force_login(editor)
    page = client.get(f"/audits/{audit.pk}/").content.decode()
    assert 'data-report-findings="data-1"' in page
    assert 'name="source" value="junit"' in page
    response = client.post(f"/integrations/mlflow/audits/{audit.pk}/findings/data-1/accept/", {"source": "junit"})
    assert response.status_code == 302
    assert audit.answers.get(item__code="data-1").status == "manual"
