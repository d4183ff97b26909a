"""Exemptions on the questionnaire's server-rendered page and its saves (without a browser)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import translation

from audits.exemptions.services import exemption_decide
from audits.models import Answer
from audits.services import audit_start
from tests.exemptions.conftest import JUSTIFICATION, in_days, request_exemption

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def save_json(client, audit, code="model-6", **body):
    return client.post(f"/audits/{audit.pk}/answers/{code}/", json.dumps(body), content_type="application/json")


def test_the_questionnaire_offers_not_applicable_only_where_the_rubric_allows_it(
    project, manager, editor, rubric_without_na_on_data_1
):
    audit = audit_start(actor=manager, project=project, rubric=rubric_without_na_on_data_1)
    page = signed_in(editor).get(f"/audits/{audit.pk}/").content.decode()
    assert 'id="status-model-6-not_applicable"' in page
    assert 'id="status-data-1-not_applicable"' not in page
    assert 'id="expires-model-6"' in page and 'id="expires-data-1"' not in page


def test_a_json_save_of_not_applicable_answers_pending_with_the_default_expiry(draft, editor):
    response = save_json(signed_in(editor), draft, status="not_applicable", notes=JUSTIFICATION)
    assert response.status_code == 200
    answer = response.json()["answer"]
    assert (answer["exemption_state"], answer["exemption_state_label"]) == ("pending", "Pending approval")
    assert answer["expires_on"] == in_days(180).isoformat()


def test_a_json_save_without_justification_is_refused_naming_notes(draft, editor):
    response = save_json(signed_in(editor), draft, status="not_applicable", notes="n/a", expires_on=None)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"notes"}
    assert not Answer.objects.filter(audit=draft).exists()


def test_the_no_script_form_refuses_an_expiry_in_the_past_and_keeps_what_was_typed(draft, editor):
    response = signed_in(editor).post(
        f"/audits/{draft.pk}/answers/model-6/",
        {"status": "not_applicable", "notes": JUSTIFICATION, "expires_on": in_days(-1).isoformat()},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The expiry date must not be in the past." in page
    assert f'value="{in_days(-1).isoformat()}"' in page


def test_a_manager_sees_the_decision_form_and_approves_from_the_questionnaire(draft, editor, manager):
    request_exemption(editor, draft)
    client = signed_in(manager)
    page = client.get(f"/audits/{draft.pk}/").content.decode()
    assert "data-exemption-decision" in page
    response = client.post(
        f"/audits/{draft.pk}/exemptions/model-6/decision/", {"decision": "approve", "comment": "Fine."}
    )
    assert response.status_code == 302
    answer = Answer.objects.get(audit=draft, item__code="model-6")
    assert (answer.exemption_state, answer.decision_comment) == ("approved", "Fine.")
    page = client.get(f"/audits/{draft.pk}/").content.decode()
    assert "data-exemption-decision" not in page
    assert "Decision: Fine." in page


def test_an_editor_sees_the_pending_state_but_no_decision_form(draft, editor):
    request_exemption(editor, draft)
    page = signed_in(editor).get(f"/audits/{draft.pk}/").content.decode()
    assert "Exemption pending approval" in page
    assert "data-exemption-decision" not in page


def test_an_editor_posting_a_decision_changes_nothing(draft, editor):
    request_exemption(editor, draft)
    signed_in(editor).post(f"/audits/{draft.pk}/exemptions/model-6/decision/", {"decision": "approve"})
    assert Answer.objects.get(audit=draft, item__code="model-6").exemption_state == "pending"


def test_a_manager_whose_own_request_needs_another_manager_is_told_so(draft, manager, second_manager):
    request_exemption(manager, draft)
    page = signed_in(manager).get(f"/audits/{draft.pk}/").content.decode()
    assert "Another manager of the team decides your own request." in page
    assert "data-exemption-decision" not in signed_in(manager).get(f"/audits/{draft.pk}/").content.decode()
    assert "data-exemption-decision" in signed_in(second_manager).get(f"/audits/{draft.pk}/").content.decode()


def test_the_history_shows_the_request_and_the_decision(draft, editor, manager):
    request_exemption(editor, draft)
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="reject", comment="It applies.")
    page = signed_in(editor).get(f"/audits/{draft.pk}/history/").content.decode()
    assert "Exemption: — → Pending approval" in page
    assert "Exemption: Pending approval → Rejected" in page
    assert "“It applies.”" in page


def test_the_questionnaire_speaks_spanish_about_exemptions(draft, editor, manager):
    request_exemption(editor, draft)
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")
    client = signed_in(editor)
    client.cookies["django_language"] = "es"
    with translation.override("es"):
        page = client.get(f"/audits/{draft.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "No aplicable" in page
    assert "Exenciones aprobadas que cuentan" in page
    assert "La exención caduca el" in page
