"""Accepting MLflow evidence: what it will change, an explicit confirmation before lowering an answer, and the
accepted state (by whom, when) — in the service, the questionnaire page (with and without JavaScript) and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from audits.models import Answer
from audits.services import answer_save, audit_start
from integrations.mlflow import services
from integrations.mlflow.models import AcceptedFinding, Finding, SyncRun, SyncTrigger
from integrations.mlflow.selectors import accept_preview
from tests.mlflow.conftest import api_as, offline_connection, web_as
from tests.web.test_browser import sign_in

CODE = "data-1"


def finding_for(project, manager, code: str = CODE, suggested: str = "manual") -> Finding:
    connection = project.mlflow_connections.first() or offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    finding, _created = Finding.objects.update_or_create(
        connection=connection,
        item_code=code,
        defaults={
            "project": project, "sync": sync, "result": "pass", "reason": f"{code} is checked in CI",
            "links": [f"http://mlflow.example/#/experiments/1/runs/{code}"], "suggested_status": suggested,
            "synced_at": timezone.now(),
        },
    )  # fmt: skip
    return finding


@pytest.fixture
def automated_audit(project, manager, editor, rubric):
    """An audit whose data-1 is answered automated, and a finding that suggests only done manually."""
    audit = audit_start(actor=manager, project=project)
    answer_save(actor=editor, audit=audit, item_code=CODE, status="automated", notes="CI runs the schema check")
    finding_for(project, manager, suggested="manual")
    return audit


def status_of(audit, code: str = CODE) -> str | None:
    return Answer.objects.filter(audit=audit, item__code=code).values_list("status", flat=True).first()


# The service -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_accepting_a_lower_suggestion_without_confirmation_names_the_flag_and_changes_nothing(automated_audit, editor):
    with pytest.raises(ValidationError) as raised:
        services.finding_accept(actor=editor, audit=automated_audit, item_code=CODE)
    assert services.CONFIRM_LOWER in raised.value.error_dict
    assert status_of(automated_audit) == "automated"
    assert not AcceptedFinding.objects.exists()
    assert Answer.objects.get(audit=automated_audit, item__code=CODE).notes == "CI runs the schema check"


@pytest.mark.django_db
def test_a_confirmed_lowering_is_saved_and_remembers_who_accepted_it(automated_audit, editor):
    answer = services.finding_accept(actor=editor, audit=automated_audit, item_code=CODE, confirm_lower=True)
    assert answer.status == "manual"
    accepted = AcceptedFinding.objects.get(answer=answer)
    assert accepted.accepted_by == editor and accepted.accepted_at is not None


@pytest.mark.django_db
def test_raising_an_answer_needs_no_confirmation(project, manager, editor, rubric):
    audit = audit_start(actor=manager, project=project)
    finding_for(project, manager, suggested="automated")
    assert services.finding_accept(actor=editor, audit=audit, item_code=CODE).status == "automated"


@pytest.mark.django_db
def test_the_preview_shows_the_status_and_the_section_and_final_scores_before_and_after(automated_audit, rubric):
    finding = Finding.objects.get(item_code=CODE)
    preview = accept_preview(audit=automated_audit, finding=finding)
    assert (preview.current, preview.suggested, preview.lowers, preview.changes_status) == (
        "automated",
        "manual",
        True,
        True,
    )
    assert (preview.section_before, preview.section_after) == (Decimal("1"), Decimal("0.5"))
    assert (preview.final_before, preview.final_after) == (Decimal("0"), Decimal("0"))  # other sections are empty
    assert preview.accepted is None


@pytest.mark.django_db
def test_an_answer_changed_after_the_check_is_a_conflict_not_an_unconfirmed_lowering(
    project, manager, editor, rubric, monkeypatch
):
    from audits.services import AnswerConflict

    audit = audit_start(actor=manager, project=project)
    answer_save(actor=editor, audit=audit, item_code=CODE, status="not_done")
    finding_for(project, manager, suggested="manual")
    original = services.answer_save

    def racing_save(**kwargs):
        # Someone answers automated between the lowering check and the save.
        original(actor=editor, audit=audit, item_code=CODE, status="automated")
        return original(**kwargs)

    monkeypatch.setattr(services, "answer_save", racing_save)
    with pytest.raises(AnswerConflict):
        services.finding_accept(actor=editor, audit=audit, item_code=CODE)
    assert status_of(audit) != "manual" and not AcceptedFinding.objects.exists()  # rolled back together


# The questionnaire page without JavaScript ---------------------------------------------------------------


def item_html(client: Client, audit) -> str:
    html = client.get(reverse("audits:audit-detail", args=[audit.pk])).content.decode()
    start = html.index(f'data-mlflow-finding="{CODE}"')
    return html[start : html.index("</div>\n", html.index("What mlaudit reads in MLflow to back this", start))]


@pytest.mark.django_db
def test_the_page_says_what_accepting_changes_and_asks_to_confirm_a_lowering(automated_audit, editor):
    html = item_html(web_as(editor), automated_audit)
    assert "Accepting changes the answer from <strong>Automated and repeated</strong>" in html
    assert "<strong>Manual, documented and shared</strong>" in html and "section 1 → 0.5" in html
    assert 'name="confirm_lower"' in html and "data-lowers" in html


@pytest.mark.django_db
def test_a_raise_shows_the_change_without_a_confirmation(project, manager, editor, rubric):
    audit = audit_start(actor=manager, project=project)
    finding_for(project, manager, suggested="automated")
    html = item_html(web_as(editor), audit)
    assert "from <strong>Not done</strong> to <strong>Automated and repeated</strong>" in html
    assert 'name="confirm_lower"' not in html


@pytest.mark.django_db
def test_without_javascript_an_unticked_lowering_is_refused_and_a_ticked_one_is_saved(automated_audit, editor):
    client = web_as(editor)
    url = reverse("mlflow:finding-accept", args=[automated_audit.pk, CODE])
    refused = client.post(url, follow=True)
    assert "Nothing was changed" in refused.content.decode()
    assert status_of(automated_audit) == "automated" and not AcceptedFinding.objects.exists()
    client.post(url, {"confirm_lower": "true"})
    assert status_of(automated_audit) == "manual"


@pytest.mark.django_db
def test_an_accepted_finding_shows_who_accepted_it_and_when_until_a_newer_sync(
    automated_audit, editor, manager, project
):
    services.finding_accept(actor=editor, audit=automated_audit, item_code=CODE, confirm_lower=True)
    html = item_html(web_as(editor), automated_audit)
    assert 'class="tag tag--accepted"' in html and f"by {editor.username}" in html
    assert "data-accept-done" in html and "data-accept-form" not in html
    finding_for(project, manager, suggested="automated")  # a newer sync suggests more
    newer = item_html(web_as(editor), automated_audit)
    assert f"Earlier evidence was accepted by {editor.username}" in newer
    assert "data-accept-form" in newer and "data-accept-done" not in newer


@pytest.mark.django_db
def test_the_questionnaire_reads_previews_with_a_fixed_number_of_queries(project, manager, editor, rubric):
    audit = audit_start(actor=manager, project=project)
    client = web_as(editor)
    finding_for(project, manager, code="data-1")
    services.finding_accept(actor=editor, audit=audit, item_code="data-1")
    client.get(reverse("audits:audit-detail", args=[audit.pk]))  # fills the per-process rubric caches
    with CaptureQueriesContext(db_connection) as few:
        client.get(reverse("audits:audit-detail", args=[audit.pk]))
    for code in ("data-2", "model-1", "infra-1", "monitoring-4"):
        finding_for(project, manager, code=code)
        services.finding_accept(actor=editor, audit=audit, item_code=code)
    with CaptureQueriesContext(db_connection) as many:
        page = client.get(reverse("audits:audit-detail", args=[audit.pk]))
    assert page.content.decode().count("data-accept-done") == 5
    assert len(many) == len(few)


# The API -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_previews_then_refuses_an_unconfirmed_lowering_in_the_envelope(automated_audit, editor):
    url = f"/api/v1/audits/{automated_audit.pk}/evidence/{CODE}/accept/"
    preview = api_as(editor).get(url).json()
    assert preview["from"] == "automated" and preview["to"] == "manual" and preview["lowers"] is True
    assert preview["section"]["from"] == "1" and preview["section"]["to"] == "0.5"
    refused = api_as(editor).post(url, {}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["confirm_lower"]
    assert status_of(automated_audit) == "automated"
    done = api_as(editor).post(url, {"confirm_lower": True}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["from"] == "manual" and done.json()["accepted"]["by"] == editor.username
    assert done.json()["accepted"]["this_finding"] is True


@pytest.mark.django_db
def test_viewers_cannot_accept_through_the_api(automated_audit, viewer):
    refused = api_as(viewer).post(f"/api/v1/audits/{automated_audit.pk}/evidence/{CODE}/accept/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    missing = api_as(viewer).get(f"/api/v1/audits/{automated_audit.pk}/evidence/model-7/accept/")
    assert missing.status_code == 404


# The confirm step in Chromium ----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_browser_asks_before_accepting_evidence_that_lowers_an_answer(page, live_server, automated_audit, editor):
    expect.set_options(timeout=10_000)
    sign_in(page, live_server, editor.username)
    page.goto(f"{live_server.url}/audits/{automated_audit.pk}/")
    item = page.locator(f"[data-mlflow-finding='{CODE}']")
    expect(item.locator("[data-confirm-lower-field]")).to_be_hidden()  # the script asks instead
    item.locator("[data-accept]").click()
    step = item.locator("[data-confirm-step]")
    expect(step).to_be_visible()
    expect(step).to_contain_text("This lowers the answer from Automated and repeated to Manual, documented and shared.")
    step.locator("[data-confirm-no]").click()
    expect(step).to_be_hidden()
    assert status_of(automated_audit) == "automated" and not AcceptedFinding.objects.exists()

    item.locator("[data-accept]").click()
    with page.expect_navigation():
        step.locator("[data-confirm-yes]").click()
    expect(page.locator(f"[data-mlflow-finding='{CODE}'] [data-accepted]")).to_contain_text(f"by {editor.username}")
    expect(page.locator(f"#status-{CODE}-manual")).to_be_checked()
    assert status_of(automated_audit) == "manual"
