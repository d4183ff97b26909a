"""The exemptions API contract: asking through PATCH answers, deciding, the score's new fields, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import Answer, AnswerChange, Membership, Role
from audits.services import audit_submit
from tests.conftest import make_user

JUSTIFICATION = "A single global model: there are no data slices to compare."


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def ask(client, audit, **fields):
    entry = {"item": "model-6", "status": "not_applicable", "notes": JUSTIFICATION, **fields}
    return client.patch(f"/api/v1/audits/{audit.pk}/answers/", [entry], format="json")


def decide(client, audit, decision="approve", item="model-6", comment="Agreed."):
    url = f"/api/v1/audits/{audit.pk}/exemptions/{item}/decision/"
    return client.post(url, {"decision": decision, "comment": comment}, format="json")


def answer_of(body, code="model-6"):
    return next(answer for answer in body["answers"] if answer["item"] == code)


def test_an_editor_asks_for_an_exemption_and_the_answers_show_it_pending(client_as, answered_audit):
    response = ask(client_as("editor"), answered_audit, expires_on=in_days(90))
    assert response.status_code == 200
    answer = answer_of(response.json())
    assert (answer["status"], answer["exemption_state"], answer["expires_on"]) == (
        "not_applicable",
        "pending",
        in_days(90),
    )
    assert response.json()["score"]["pending_exemptions"] == 1
    assert response.json()["score"]["exempted"] == []


def test_a_manager_approves_and_the_score_counts_it_with_the_strict_score_beside_it(client_as, answered_audit):
    ask(client_as("editor"), answered_audit)
    decided = decide(client_as("manager"), answered_audit)
    assert decided.status_code == 200
    assert decided.json()["exemption_state"] == "approved"
    assert decided.json()["decision_by"] == "mara"
    assert decided.json()["decision_comment"] == "Agreed."
    score = client_as("viewer").get(f"/api/v1/audits/{answered_audit.pk}/score/").json()
    # model was 2.5 (the weakest); model-6 from not done to exempt makes it 3.5, so monitoring's 3 is the minimum.
    assert (score["final"], score["final_strict"]) == (3.0, 2.5)
    assert score["exempted"] == ["model-6"]
    assert score["pending_exemptions"] == 0


def test_a_justification_too_short_is_a_400_naming_notes_and_nothing_is_saved(client_as, answered_audit):
    before = Answer.objects.get(audit=answered_audit, item__code="model-6").status
    response = ask(client_as("editor"), answered_audit, notes="n/a")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]["0"]) == {"notes"}
    assert Answer.objects.get(audit=answered_audit, item__code="model-6").status == before


@pytest.mark.parametrize("expires_on", [-1, 731])
def test_an_expiry_in_the_past_or_beyond_two_years_is_a_400_naming_expires_on(client_as, answered_audit, expires_on):
    response = ask(client_as("editor"), answered_audit, expires_on=in_days(expires_on))
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]["0"]) == {"expires_on"}


def test_an_expiry_that_is_not_a_date_is_a_400_naming_expires_on(client_as, answered_audit):
    response = ask(client_as("editor"), answered_audit, expires_on="soon")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]["0"]) == {"expires_on"}


def test_an_item_that_disallows_not_applicable_is_a_400_naming_status(client_as, project, manager):
    from audits.services import audit_start
    from tests.exemptions.conftest import load_rubric_disallowing

    audit = audit_start(actor=manager, project=project, rubric=load_rubric_disallowing("model-6"))
    response = ask(client_as("editor"), audit)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]["0"]) == {"status"}
    assert not Answer.objects.filter(audit=audit).exists()


@pytest.mark.parametrize(
    ("role", "expected"), [("viewer", 403), ("editor", 403), ("outsider", 404), ("anonymous", 401)]
)
def test_only_managers_decide(client_as, answered_audit, role, expected):
    ask(client_as("editor"), answered_audit)
    assert decide(client_as(role), answered_audit).status_code == expected
    assert Answer.objects.get(audit=answered_audit, item__code="model-6").exemption_state == "pending"


def test_a_manager_deciding_their_own_request_with_another_manager_in_the_team_is_a_403(
    client_as, token_client, answered_audit, team
):
    other = make_user("magnus")
    Membership.objects.create(team=team, user=other, role=Role.MANAGER)
    ask(client_as("manager"), answered_audit)
    assert decide(client_as("manager"), answered_audit).status_code == 403
    assert decide(token_client(other), answered_audit).status_code == 200


def test_deciding_on_a_submitted_audit_is_a_409_conflict(client_as, answered_audit, manager):
    ask(client_as("editor"), answered_audit)
    audit_submit(actor=manager, audit=answered_audit)
    response = decide(client_as("manager"), answered_audit)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Answer.objects.get(audit=answered_audit, item__code="model-6").exemption_state == "pending"


def test_a_decision_other_than_approve_or_reject_is_a_400_naming_decision(client_as, answered_audit):
    ask(client_as("editor"), answered_audit)
    response = decide(client_as("manager"), answered_audit, decision="maybe")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"decision"}


def test_deciding_an_item_without_a_request_is_a_400_naming_item(client_as, answered_audit):
    response = decide(client_as("manager"), answered_audit, item="data-1")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"item"}


def test_the_request_and_the_decision_are_in_the_history(client_as, answered_audit):
    ask(client_as("editor"), answered_audit)
    decide(client_as("manager"), answered_audit, decision="reject", comment="It applies to us.")
    changes = AnswerChange.objects.filter(answer__audit=answered_audit, answer__item__code="model-6").order_by("pk")
    assert [(c.exemption_before, c.exemption_after) for c in changes][-2:] == [("", "pending"), ("pending", "rejected")]
    assert changes.last().comment == "It applies to us."


def test_submit_freezes_the_strict_score_for_the_trend_and_the_portfolio(client_as, answered_audit, manager):
    ask(client_as("editor"), answered_audit)
    decide(client_as("manager"), answered_audit)
    audit_submit(actor=manager, audit=answered_audit)
    trend = client_as("viewer").get(f"/api/v1/projects/{answered_audit.project.slug}/trend/").json()
    assert (trend[-1]["final"], trend[-1]["final_strict"], trend[-1]["exempted"]) == (3.0, 2.5, 1)
    row = client_as("viewer").get("/api/v1/portfolio/").json()["results"][0]
    assert (row["final"], row["final_strict"], row["exempted"]) == (3.0, 2.5, 1)


def test_the_export_names_the_exempted_items_and_the_strict_score(client_as, answered_audit):
    ask(client_as("editor"), answered_audit)
    decide(client_as("manager"), answered_audit)
    data = client_as("viewer").get(f"/api/v1/audits/{answered_audit.pk}/export/").json()
    assert (data["final"], data["final_strict"], data["exempted"]) == (3.0, 2.5, ["model-6"])
    markdown = client_as("viewer").get(f"/api/v1/audits/{answered_audit.pk}/export/?format=md").content.decode()
    assert "counts 1 approved exemptions (`model-6`); without them the final score is 2.5" in markdown
    assert "N/A (Approved, until" in markdown


def test_the_badge_marks_a_score_that_counts_exemptions_with_an_asterisk(client_as, answered_audit, manager):
    ask(client_as("editor"), answered_audit)
    decide(client_as("manager"), answered_audit)
    audit_submit(actor=manager, audit=answered_audit)
    badge = client_as("viewer").get(f"/api/v1/projects/{answered_audit.project.slug}/badge.svg").content.decode()
    assert ">3*</text>" in badge


def test_the_badge_has_no_asterisk_without_exemptions(client_as, submitted_audit):
    badge = client_as("viewer").get(f"/api/v1/projects/{submitted_audit.project.slug}/badge.svg").content.decode()
    assert ">2.5</text>" in badge
