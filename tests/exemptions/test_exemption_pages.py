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


def _queries_of(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_questionnaire_and_the_project_page_read_the_same_number_of_rows_whatever_the_exemptions(
    project, manager, editor, rubric, second_manager
):
    from audits.services import audit_submit

    few = audit_start(actor=manager, project=project, rubric=rubric)
    request_exemption(editor, few, code="model-6", expires_on=in_days(3))
    exemption_decide(actor=manager, audit=few, item_code="model-6", decision="approve")
    client = signed_in(manager)
    counts = [_queries_of(client, f"/audits/{few.pk}/")]
    audit_submit(actor=manager, audit=few)
    counts_project = [_queries_of(client, f"/projects/{project.slug}/")]
    many = audit_start(actor=manager, project=project, rubric=rubric)
    codes = list(rubric.items.values_list("code", flat=True))[:12]
    for code in codes:
        request_exemption(editor, many, code=code, expires_on=in_days(3))
    for code in codes[:6]:
        exemption_decide(actor=manager, audit=many, item_code=code, decision="approve")
    request_exemption(manager, many, code="monitoring-7")  # the manager's own: "another manager decides"
    counts.append(_queries_of(client, f"/audits/{many.pk}/"))
    audit_submit(actor=manager, audit=many)
    counts_project.append(_queries_of(client, f"/projects/{project.slug}/"))
    assert counts[1] <= counts[0] + 1, counts  # + the sole-manager check, once a page
    assert counts_project[1] == counts_project[0], counts_project


def test_the_result_trend_and_portfolio_pages_show_the_exemptions_beside_the_score(project, manager, editor, draft):
    from audits.services import audit_submit
    from tests.exemptions.conftest import answer_all

    answer_all(editor, draft, except_codes=("model-6",))
    request_exemption(editor, draft)
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")
    audit_submit(actor=manager, audit=draft)
    client = signed_in(editor)
    from django.urls import reverse

    urls = (
        reverse("dashboards:audit-result", kwargs={"audit_id": draft.pk}),
        reverse("dashboards:project-trend", kwargs={"slug": project.slug}),
        reverse("dashboards:portfolio"),
    )
    for url in urls:
        page = client.get(url).content.decode()
        assert "1 exemption; without them: 6" in page, url
