"""Asking for and deciding exemptions through the services: limits, states, permissions, history, scores."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits.exemptions.services import ExemptionConflict, exemption_decide
from audits.models import Answer, AnswerChange, Membership, Role
from audits.models.exemptions import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS
from audits.selectors import audit_score
from audits.services import answer_save, answer_save_detailed, answers_bulk_upsert, audit_start, audit_submit
from tests.exemptions.conftest import JUSTIFICATION, answer_all, in_days, request_exemption

pytestmark = pytest.mark.django_db


def test_a_not_applicable_answer_is_a_pending_request_with_the_default_expiry(draft, editor):
    answer = request_exemption(editor, draft)
    assert answer.status == "not_applicable"
    assert answer.exemption_state == "pending"
    assert answer.expires_on == in_days(DEFAULT_EXPIRY_DAYS)
    assert answer.exemption_requested_by == editor


def test_a_justification_shorter_than_twenty_characters_is_refused_naming_notes(draft, editor):
    with pytest.raises(ValidationError) as error:
        request_exemption(editor, draft, notes="does not apply")
    assert set(error.value.message_dict) == {"notes"}
    assert not Answer.objects.filter(audit=draft).exists()


def test_an_expiry_in_the_past_is_refused_naming_expires_on(draft, editor):
    with pytest.raises(ValidationError) as error:
        request_exemption(editor, draft, expires_on=in_days(-1))
    assert set(error.value.message_dict) == {"expires_on"}


def test_an_expiry_beyond_two_years_is_refused_and_the_limit_itself_is_accepted(draft, editor):
    with pytest.raises(ValidationError) as error:
        request_exemption(editor, draft, expires_on=in_days(MAX_EXPIRY_DAYS + 1))
    assert set(error.value.message_dict) == {"expires_on"}
    assert request_exemption(editor, draft, expires_on=in_days(MAX_EXPIRY_DAYS)).expires_on == in_days(MAX_EXPIRY_DAYS)


def test_an_expiry_that_is_not_a_date_is_refused_naming_expires_on(draft, editor):
    with pytest.raises(ValidationError) as error:
        request_exemption(editor, draft, expires_on="next spring")
    assert set(error.value.message_dict) == {"expires_on"}


def test_an_item_whose_rubric_disallows_not_applicable_is_refused_naming_status(
    project, manager, editor, rubric_without_na_on_data_1
):
    audit = audit_start(actor=manager, project=project, rubric=rubric_without_na_on_data_1)
    with pytest.raises(ValidationError) as error:
        request_exemption(editor, audit, code="data-1")
    assert set(error.value.message_dict) == {"status"}
    assert request_exemption(editor, audit, code="data-2").exemption_state == "pending"


def test_an_exemption_carried_onto_a_rubric_that_disallows_it_becomes_not_done(
    project, manager, editor, draft, rubric_without_na_on_data_1
):
    request_exemption(editor, draft, code="data-1")
    exemption_decide(actor=manager, audit=draft, item_code="data-1", decision="approve")
    audit_submit(actor=manager, audit=draft)
    new = audit_start(actor=manager, project=project, rubric=rubric_without_na_on_data_1, copy_from_latest=True)
    carried = Answer.objects.get(audit=new, item__code="data-1")
    assert (carried.status, carried.exemption_state, carried.carried_over) == ("not_done", "", True)


def test_the_bulk_upsert_names_the_element_and_the_field_and_saves_nothing(draft, editor):
    from audits.services import BulkAnswerError

    entries = [
        {"item": "data-1", "status": "manual"},
        {"item": "model-6", "status": "not_applicable", "notes": "short", "expires_on": in_days(-3)},
    ]
    with pytest.raises(BulkAnswerError) as error:
        answers_bulk_upsert(actor=editor, audit=draft, entries=entries)
    assert set(error.value.errors) == {1}
    assert set(error.value.errors[1]) == {"notes", "expires_on"}
    assert not Answer.objects.filter(audit=draft).exists()


def test_a_pending_exemption_counts_as_not_done(draft, editor):
    answer_all(editor, draft, except_codes=("model-6",))
    before = audit_score(audit=draft)
    saved = answer_save_detailed(
        actor=editor, audit=draft, item_code="model-6", status="not_applicable", notes=JUSTIFICATION
    )
    assert saved.statuses["model-6"] == "not_done"
    after = audit_score(audit=draft)
    assert after.final == before.final == Decimal(6)
    assert after.exempted == ()


def test_an_approved_exemption_counts_worth_the_top_points_and_the_strict_score_does_not(draft, editor, manager):
    answer_all(editor, draft, except_codes=("model-6",))
    request_exemption(editor, draft)
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve", comment="Agreed.")
    result = audit_score(audit=draft)
    assert result.final == Decimal(7)
    assert result.final_strict == Decimal(6)
    assert result.exempted == ("model-6",)


def test_a_rejected_exemption_counts_as_not_done(draft, editor, manager):
    answer_all(editor, draft, except_codes=("model-6",))
    request_exemption(editor, draft)
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="reject", comment="It applies.")
    answer = Answer.objects.get(audit=draft, item__code="model-6")
    assert answer.exemption_state == "rejected"
    assert answer.decision_comment == "It applies."
    assert audit_score(audit=draft).final == Decimal(6)


def test_an_approved_exemption_that_expired_stops_counting(draft, editor, manager):
    answer_all(editor, draft, except_codes=("model-6",))
    request_exemption(editor, draft, expires_on=in_days(10))
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")
    Answer.objects.filter(audit=draft, item__code="model-6").update(expires_on=in_days(-1))
    assert audit_score(audit=draft).final == Decimal(6)
    Answer.objects.filter(audit=draft, item__code="model-6").update(expires_on=in_days(0))
    assert audit_score(audit=draft).final == Decimal(7), "an exemption still counts on its last day"


@pytest.mark.parametrize("role", ["viewer", "editor", "outsider"])
def test_only_managers_of_the_team_decide_exemptions(request, draft, editor, role):
    request_exemption(editor, draft)
    with pytest.raises(PermissionDenied):
        exemption_decide(actor=request.getfixturevalue(role), audit=draft, item_code="model-6", decision="approve")
    assert Answer.objects.get(audit=draft, item__code="model-6").exemption_state == "pending"


def test_a_manager_cannot_approve_their_own_request_when_the_team_has_another_manager(draft, manager, second_manager):
    request_exemption(manager, draft)
    with pytest.raises(PermissionDenied):
        exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")
    exemption_decide(actor=second_manager, audit=draft, item_code="model-6", decision="approve")
    assert Answer.objects.get(audit=draft, item__code="model-6").exemption_state == "approved"


def test_the_only_manager_of_a_team_may_approve_their_own_request(draft, manager, editor):
    assert Membership.objects.filter(team=draft.project.team, role=Role.MANAGER).count() == 1
    request_exemption(manager, draft)
    answer = exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")
    assert answer.exemption_state == "approved"
    assert answer.decision_by == manager


def test_deciding_on_a_submitted_audit_is_a_conflict(draft, editor, manager):
    request_exemption(editor, draft)
    audit_submit(actor=manager, audit=draft)
    with pytest.raises(ExemptionConflict):
        exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")


def test_deciding_twice_is_a_conflict(draft, editor, manager):
    request_exemption(editor, draft)
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")
    with pytest.raises(ExemptionConflict):
        exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="reject")


def test_an_item_without_a_request_cannot_be_decided(draft, editor, manager):
    answer_save(actor=editor, audit=draft, item_code="model-6", status="manual")
    with pytest.raises(ValidationError) as error:
        exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")
    assert set(error.value.message_dict) == {"item"}


def test_the_request_and_the_decision_are_in_the_answers_history(draft, editor, manager):
    request_exemption(editor, draft, expires_on=in_days(30))
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve", comment="Agreed.")
    decision, request = AnswerChange.objects.filter(answer__audit=draft).order_by("-pk")
    assert (request.changed_by, request.status_after) == (editor, "not_applicable")
    assert request.exemption_after == "pending"
    assert request.expires_on_after == in_days(30)
    assert (decision.changed_by, decision.exemption_before, decision.exemption_after) == (
        manager,
        "pending",
        "approved",
    )
    assert decision.comment == "Agreed."


def test_changing_the_justification_of_an_approved_exemption_asks_again(draft, editor, manager):
    request_exemption(editor, draft)
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")
    answer = request_exemption(editor, draft, notes=JUSTIFICATION + " Also no segments.")
    assert answer.exemption_state == "pending"
    assert answer.decision_by is None


def test_saving_an_approved_exemption_unchanged_keeps_it_approved(draft, editor, manager):
    first = request_exemption(editor, draft)
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")
    again = request_exemption(editor, draft, expires_on=first.expires_on)
    assert again.exemption_state == "approved"


def test_another_status_clears_the_exemption(draft, editor):
    request_exemption(editor, draft)
    answer = answer_save(actor=editor, audit=draft, item_code="model-6", status="manual", notes=JUSTIFICATION)
    assert (answer.exemption_state, answer.expires_on) == ("", None)


def test_submitting_freezes_the_strict_final_and_the_exempted_count(draft, editor, manager):
    answer_all(editor, draft, except_codes=("model-6",))
    request_exemption(editor, draft)
    exemption_decide(actor=manager, audit=draft, item_code="model-6", decision="approve")
    submitted = audit_submit(actor=manager, audit=draft)
    assert (submitted.final_score, submitted.final_strict_score, submitted.exempted_count) == (7, 6, 1)
    draft.project.refresh_from_db()
    assert draft.project.last_audit_final == 7
