"""GET /api/v1/audits/{id}/next-steps/ and the item owner endpoints: contract, bad input, roles, queries."""

from __future__ import annotations

import pytest

from audits.assignments.services import item_assign
from audits.models import Audit, Delivery, ItemAssignment, Notification
from audits.planning.selectors import evidence_items
from audits.selectors import audit_status_map
from audits.services import answers_bulk_upsert, audit_start, audit_submit
from rubric.selectors import BUILTIN_SLUG
from tests.reports.test_push_api import push
from tests.reports.tools import junit_report  # noqa: F401

# Data and infrastructure at 7; model and monitoring at 1.5 (three manual answers each): final 1.5.
AT_1_5 = {
    **{f"data-{n}": "automated" for n in range(1, 8)},
    **{f"infra-{n}": "automated" for n in range(1, 8)},
    **{f"model-{n}": "manual" for n in range(1, 4)},
    **{f"monitoring-{n}": "manual" for n in range(1, 4)},
}


@pytest.fixture
def audit_at_1_5(draft_audit: Audit, manager) -> Audit:
    answers_bulk_upsert(actor=manager, audit=draft_audit, entries=[{"item": c, "status": s} for c, s in AT_1_5.items()])
    return draft_audit


def url(audit: Audit) -> str:
    return f"/api/v1/audits/{audit.pk}/next-steps/"


def owner_url(audit: Audit, item: str) -> str:
    return f"/api/v1/audits/{audit.pk}/items/{item}/owner/"


def test_a_project_at_1_5_gets_exactly_the_two_items_that_reach_2_with_their_owners(
    client_as, audit_at_1_5, manager, editor
):
    item_assign(actor=manager, audit=audit_at_1_5, item_code="monitoring-4", assignee=editor)
    response = client_as("viewer").get(url(audit_at_1_5), {"target": "2"})
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "current": "1.5",
        "target": "2",
        "target_band": None,
        "reachable": True,
        "changes": [
            {"item": "model-4", "section": "model", "from": "not_done", "to": "manual", "gain": "0.5", "owner": None},
            {"item": "monitoring-4", "section": "monitoring", "from": "not_done", "to": "manual", "gain": "0.5",
             "owner": "eddie"},
        ],
        "final_after": "2",
    }  # fmt: skip


def test_the_default_target_is_the_next_band_reached_above_its_lower_bound(client_as, audit_at_1_5):
    body = client_as("viewer").get(url(audit_at_1_5)).json()
    assert (body["target"], body["target_band"], body["reachable"], body["final_after"]) == (
        "2",
        "Reasonably tested",
        True,
        "2.5",
    )
    assert [(c["item"], c["from"], c["to"], c["gain"]) for c in body["changes"]] == [
        ("model-4", "not_done", "automated", "1"),
        ("monitoring-4", "not_done", "automated", "1"),
    ]
    by_label = client_as("viewer").get(url(audit_at_1_5), {"target": "reasonably tested"}).json()
    assert by_label == body


def test_a_target_above_the_maximum_is_unreachable_not_an_error(client_as, audit_at_1_5):
    for target in ("7.5", "100", "999999"):
        response = client_as("viewer").get(url(audit_at_1_5), {"target": target})
        assert response.status_code == 200
        body = response.json()
        assert (body["reachable"], body["changes"], body["final_after"], body["current"]) == (False, [], "1.5", "1.5")


def test_a_target_already_met_needs_no_changes(client_as, audit_at_1_5):
    for target in ("1.5", "0", "-2", "First steps", "Research project"):
        body = client_as("viewer").get(url(audit_at_1_5), {"target": target}).json()
        assert (body["reachable"], body["changes"], body["final_after"]) == (True, [], "1.5"), target
    assert client_as("viewer").get(url(audit_at_1_5), {"target": "Research project"}).json()["target"] is None


@pytest.mark.parametrize(
    "target", ["Pretty good", "NaN", "Infinity", "1e999999", "1e-999999", "x" * 101, "2,5", "2\x00"]
)
def test_a_malformed_target_is_refused_naming_the_field(client_as, audit_at_1_5, target):
    response = client_as("viewer").get(url(audit_at_1_5), {"target": target})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == ["target"]


def test_an_unknown_band_lists_the_rubric_bands(client_as, audit_at_1_5):
    message = client_as("viewer").get(url(audit_at_1_5), {"target": "Pretty good"}).json()["error"]["fields"]
    assert "Reasonably tested" in message["target"][0]


@pytest.mark.parametrize(("role", "expected"), [("anonymous", 401), ("outsider", 404), ("viewer", 200), ("staff", 200)])
def test_next_steps_are_read_by_whoever_may_read_the_audit(client_as, audit_at_1_5, role, expected):
    assert client_as(role).get(url(audit_at_1_5)).status_code == expected


def test_a_submitted_audit_has_next_steps_too(client_as, audit_at_1_5, manager):
    audit_submit(actor=manager, audit=audit_at_1_5)
    body = client_as("viewer").get(url(audit_at_1_5)).json()
    assert body["reachable"] and len(body["changes"]) == 2


def test_next_steps_read_a_fixed_number_of_queries_whatever_the_owners(
    client_as, audit_at_1_5, manager, editor, django_assert_max_num_queries
):
    client = client_as("viewer")
    client.get(url(audit_at_1_5))  # the per-process rubric caches
    with django_assert_max_num_queries(6) as few:
        client.get(url(audit_at_1_5))
    for item in ("model-4", "model-5", "monitoring-4", "monitoring-5", "data-1"):
        item_assign(actor=manager, audit=audit_at_1_5, item_code=item, assignee=editor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url(audit_at_1_5))
    assert [c["owner"] for c in response.json()["changes"]] == ["eddie", "eddie"]


def test_items_with_evidence_that_supports_a_higher_answer_are_known_to_the_plan(
    client_as,
    audit_at_1_5,
    junit_report,  # noqa: F811
):
    push(client_as("editor"), junit_report(), run_id="1")
    answers_bulk_upsert(
        actor=audit_at_1_5.created_by, audit=audit_at_1_5, entries=[{"item": "data-1", "status": "not_done"}]
    )
    # The JUnit report passes data-1 and infra-1 (each suggests manual); infra-1 is automated already.
    assert evidence_items(audit_at_1_5, audit_status_map(audit=audit_at_1_5)) == frozenset({"data-1"})


# Owners -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("outsider", 404), ("viewer", 403), ("editor", 200), ("manager", 200)]
)
def test_editors_and_managers_assign_items_and_others_cannot(client_as, draft_audit, editor, role, expected):
    response = client_as(role).put(owner_url(draft_audit, "monitoring-4"), {"assignee": "eddie"}, format="json")
    assert response.status_code == expected, response.content
    assert ItemAssignment.objects.filter(audit=draft_audit).exists() == (expected == 200)
    if expected == 200:
        assert response.json() == {"item": "monitoring-4", "owner": "eddie"}


@pytest.mark.parametrize("assignee", ["vera", "otto", "nobody", ""])
def test_the_owner_must_be_an_editor_or_manager_of_the_team(client_as, draft_audit, viewer, outsider, assignee):
    response = client_as("manager").put(owner_url(draft_audit, "monitoring-4"), {"assignee": assignee}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["assignee"]
    assert not ItemAssignment.objects.exists()


def test_assigning_tells_the_owner_once_per_audit_item_and_person(client_as, draft_audit, editor, manager):
    with_commit = client_as("manager")
    for _ in range(2):
        with_commit.put(owner_url(draft_audit, "monitoring-4"), {"assignee": "eddie"}, format="json")
    notification = Notification.objects.get(event="item_assigned")
    assert notification.key == f"assign:{draft_audit.pk}:monitoring-4:{editor.pk}"
    assert notification.audit_id == draft_audit.pk
    assert notification.context["title"] == "monitoring-4 of Search ranking is yours"
    assert notification.context["lines"] == [f"mara made you the owner of monitoring-4 in audit #{draft_audit.pk}."]
    assert notification.context["url"] == f"/audits/{draft_audit.pk}/#item-monitoring-4"
    assert list(Delivery.objects.filter(notification=notification).values_list("recipient", flat=True)) == [editor.pk]
    with_commit.put(owner_url(draft_audit, "monitoring-4"), {"assignee": "mara"}, format="json")
    assert ItemAssignment.objects.get(audit=draft_audit).assignee == manager
    assert Notification.objects.filter(event="item_assigned").count() == 2


def test_an_owner_is_read_and_removed(client_as, draft_audit, editor):
    client = client_as("editor")
    assert client.get(owner_url(draft_audit, "data-1")).json() == {"item": "data-1", "owner": None}
    client.put(owner_url(draft_audit, "data-1"), {"assignee": "eddie"}, format="json")
    assert client_as("viewer").get(owner_url(draft_audit, "data-1")).json()["owner"] == "eddie"
    assert client_as("viewer").delete(owner_url(draft_audit, "data-1")).status_code == 403
    assert client.delete(owner_url(draft_audit, "data-1")).status_code == 204
    assert client.get(owner_url(draft_audit, "data-1")).json()["owner"] is None


def test_an_unknown_item_is_not_found(client_as, draft_audit, editor):
    response = client_as("editor").put(owner_url(draft_audit, "data-99"), {"assignee": "eddie"}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_submitted_audit_keeps_its_owners_and_refuses_changes(client_as, draft_audit, manager, editor):
    item_assign(actor=manager, audit=draft_audit, item_code="data-1", assignee=editor)
    audit_submit(actor=manager, audit=draft_audit)
    for response in (
        client_as("manager").put(owner_url(draft_audit, "data-2"), {"assignee": "eddie"}, format="json"),
        client_as("manager").delete(owner_url(draft_audit, "data-1")),
    ):
        assert response.status_code == 409 and response.json()["error"]["code"] == "audit_locked"
    assert list(ItemAssignment.objects.values_list("item__code", flat=True)) == ["data-1"]


def test_owners_are_carried_into_a_new_audit_with_the_answers(draft_audit, manager, editor, project, team):
    from audits.models import Membership

    item_assign(actor=manager, audit=draft_audit, item_code="data-1", assignee=editor)
    item_assign(actor=manager, audit=draft_audit, item_code="data-2", assignee=manager)
    audit_submit(actor=manager, audit=draft_audit)
    Membership.objects.filter(user=editor).update(role="viewer")  # a viewer may no longer own items
    copy = audit_start(actor=manager, project=project, copy_from_latest=True)
    assert copy.rubric.slug == BUILTIN_SLUG
    assert list(copy.assignments.values_list("item__code", "assignee__username")) == [("data-2", "mara")]
    assert Notification.objects.filter(event="item_assigned").count() == 2  # no new message for a copy
