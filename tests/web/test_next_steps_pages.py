"""Next steps and owners on the pages: the questionnaire's panel (and its update after a save), the owner
tag, the assign form and the "Assigned to me" filter, the result page and the Markdown export."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import translation

from audits.assignments.services import item_assign
from audits.models import Audit, ItemAssignment, Membership, Role
from audits.services import answers_bulk_upsert, audit_submit
from tests.conftest import make_user

# Every section at 7 but monitoring at 1.5 (three manual answers): the next band needs one more item there.
MONITORING_AT_1_5 = {
    **{f"{section}-{n}": "automated" for section in ("data", "model", "infra") for n in range(1, 8)},
    **{f"monitoring-{n}": "manual" for n in range(1, 4)},
}


@pytest.fixture
def at_1_5(draft: Audit, manager) -> Audit:
    answers_bulk_upsert(
        actor=manager, audit=draft, entries=[{"item": c, "status": s} for c, s in MONITORING_AT_1_5.items()]
    )
    return draft


def panel(html: str) -> str:
    found = re.search(r'<div class="next-steps small" data-next-steps>(.*?)</div>', html, re.S)
    assert found, "no next-steps panel"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_the_panel_names_the_items_that_reach_the_next_band(at_1_5, viewer, signed_in):
    html = signed_in(viewer).get(f"/audits/{at_1_5.pk}/").content.decode()
    assert panel(html).startswith("1 more item in Monitoring tests for ML reaches Reasonably tested")
    assert '<a href="#item-monitoring-4">monitoring-4</a> → Automated' in html


def test_the_panel_counts_the_items_of_each_section_when_several_hold_the_score_down(draft, manager, viewer, signed_in):
    answers = {**MONITORING_AT_1_5, **{f"monitoring-{n}": "manual" for n in range(1, 8)}}  # monitoring 3.5
    answers.update({f"data-{n}": "manual" for n in range(1, 8)})  # data 3.5 too
    answers_bulk_upsert(actor=manager, audit=draft, entries=[{"item": c, "status": s} for c, s in answers.items()])
    text = panel(signed_in(viewer).get(f"/audits/{draft.pk}/").content.decode())
    # Above 5 (Exceptional) from 3.5 takes four manual -> automated steps in each of the two sections.
    assert text.startswith(
        "8 more items reach Exceptional : 4 in Tests for features and data , 4 in Monitoring tests for ML"
    )


def test_a_save_returns_the_panel_again_with_the_new_plan(at_1_5, editor, signed_in):
    response = signed_in(editor).post(
        f"/audits/{at_1_5.pk}/answers/monitoring-4/", json.dumps({"status": "manual"}), content_type="application/json"
    )
    fragment = response.json()["score"]["next_steps"]
    assert panel(fragment).startswith("1 more item in Monitoring tests for ML reaches Reasonably tested")
    assert "monitoring-5" in fragment and "monitoring-4</a>" not in fragment  # monitoring 2: one more, manual
    response = signed_in(editor).post(
        f"/audits/{at_1_5.pk}/answers/monitoring-5/", json.dumps({"status": "manual"}), content_type="application/json"
    )
    # Monitoring at 2.5 is Reasonably tested: the next band, above 3, takes one item straight to automated.
    assert panel(response.json()["score"]["next_steps"]).startswith(
        "1 more item in Monitoring tests for ML reaches Strongly tested"
    )


def test_the_top_band_says_so(draft, manager, viewer, signed_in):
    everything = [{"item": item.code, "status": "automated"} for item in draft.rubric.items.all()]
    answers_bulk_upsert(actor=manager, audit=draft, entries=everything)
    assert panel(signed_in(viewer).get(f"/audits/{draft.pk}/").content.decode()) == "The top band is reached."


def test_the_panel_speaks_spanish(at_1_5, viewer, signed_in):
    client = signed_in(viewer)
    with translation.override("es"):
        html = client.get(f"/audits/{at_1_5.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "más" in panel(html) and "Razonablemente probado" in panel(html)


# Owners in the questionnaire ------------------------------------------------------------------------


def test_an_editor_assigns_an_item_from_the_questionnaire_and_it_shows_its_owner(draft, editor, manager, signed_in):
    client = signed_in(editor)
    page = client.get(f"/audits/{draft.pk}/").content.decode()
    assert f'action="/audits/{draft.pk}/items/data-1/owner/"' in page
    assert '<option value="eddie">eddie</option><option value="mara">mara</option>' in page  # editors and managers
    response = client.post(f"/audits/{draft.pk}/items/data-1/owner/", {"assignee": "mara"})
    assert response.status_code == 302 and response["Location"].endswith("#item-data-1")
    assert ItemAssignment.objects.get(audit=draft).assignee == manager
    page = client.get(f"/audits/{draft.pk}/").content.decode()
    assert "Owner: mara" in page and '<option value="mara" selected>' in page
    client.post(f"/audits/{draft.pk}/items/data-1/owner/", {"assignee": ""})
    assert not ItemAssignment.objects.exists()


def test_viewers_see_owners_but_no_assign_form_and_cannot_post_one(draft, editor, manager, viewer, signed_in):
    item_assign(actor=manager, audit=draft, item_code="data-1", assignee=editor)
    client = signed_in(viewer)
    page = client.get(f"/audits/{draft.pk}/").content.decode()
    assert "Owner: eddie" in page and "data-owner-form" not in page
    client.post(f"/audits/{draft.pk}/items/data-2/owner/", {"assignee": "eddie"})
    assert list(ItemAssignment.objects.values_list("item__code", flat=True)) == ["data-1"]


def test_outsiders_cannot_assign(draft, outsider, signed_in):
    assert signed_in(outsider).post(f"/audits/{draft.pk}/items/data-1/owner/", {"assignee": "otto"}).status_code == 404
    assert not ItemAssignment.objects.exists()


def test_a_viewer_cannot_be_made_an_owner_and_the_page_says_why(draft, editor, viewer, signed_in):
    client = signed_in(editor)
    response = client.post(f"/audits/{draft.pk}/items/data-1/owner/", {"assignee": "vera"}, follow=True)
    assert "“vera” is not an editor or manager of this team." in response.content.decode()
    assert not ItemAssignment.objects.exists()


def test_a_submitted_audit_shows_owners_without_a_form(draft, editor, manager, signed_in):
    item_assign(actor=manager, audit=draft, item_code="data-1", assignee=editor)
    audit_submit(actor=manager, audit=draft)
    page = signed_in(manager).get(f"/audits/{draft.pk}/").content.decode()
    assert "Owner: eddie" in page and "data-owner-form" not in page
    response = signed_in(manager).post(f"/audits/{draft.pk}/items/data-2/owner/", {"assignee": "eddie"}, follow=True)
    assert "its items can no longer be assigned" in response.content.decode()


def test_assigned_to_me_shows_only_my_items(draft, editor, manager, signed_in):
    item_assign(actor=manager, audit=draft, item_code="data-2", assignee=editor)
    item_assign(actor=manager, audit=draft, item_code="infra-3", assignee=editor)
    item_assign(actor=manager, audit=draft, item_code="model-1", assignee=manager)
    page = signed_in(editor).get(f"/audits/{draft.pk}/", {"show": "assigned"}).content.decode()
    shown = re.findall(r'<article class="item" id="item-([\w-]+)"(?![^>]*\bhidden\b)[^>]*>', page)
    assert shown == ["data-2", "infra-3"]
    assert re.findall(r'id="item-([\w-]+)"[^>]*data-assigned', page) == ["data-2", "infra-3"]
    assert '<span class="filters__count" data-filter-count="assigned">2</span>' in page


def test_a_member_demoted_to_viewer_is_no_longer_offered_as_owner(draft, editor, manager, team, signed_in):
    Membership.objects.filter(user=editor).update(role=Role.VIEWER)
    make_user("nina")  # not in the team at all
    page = signed_in(manager).get(f"/audits/{draft.pk}/").content.decode()
    assert '<option value="mara">' in page and '<option value="eddie">' not in page and "nina" not in page


# Result page and export --------------------------------------------------------------------------------


def test_the_result_page_lists_the_next_steps_with_owners(at_1_5, editor, manager, viewer, signed_in):
    item_assign(actor=manager, audit=at_1_5, item_code="monitoring-4", assignee=editor)
    html = signed_in(viewer).get(f"/audits/{at_1_5.pk}/result/").content.decode()
    section = html[html.index('data-testid="next-steps"') :]
    section = section[: section.index("</section>")]
    text = " ".join(re.sub(r"<[^>]+>", " ", section).split())
    assert "1 change reaches Reasonably tested (final score 2.5)" in text
    assert re.findall(r'data-next-step="([\w-]+)"', section) == ["monitoring-4"]
    assert "Not done Automated +1 eddie" in text


def test_the_markdown_export_has_the_next_steps_with_owners(at_1_5, editor, manager, viewer, signed_in):
    item_assign(actor=manager, audit=at_1_5, item_code="monitoring-4", assignee=editor)
    text = signed_in(viewer).get(f"/api/v1/audits/{at_1_5.pk}/export/", {"format": "md"}).content.decode()
    assert "## Next steps\n\n1 change reaches *Reasonably tested* (final score 2.5):" in text
    assert "| `monitoring-4` Models are not too stale | Not done | Automated | +1 | eddie |" in text
    exported = signed_in(viewer).get(f"/api/v1/audits/{at_1_5.pk}/export/").json()["next_steps"]
    assert exported["changes"][0] == {
        "item": "monitoring-4",
        "section": "monitoring",
        "from": "not_done",
        "to": "automated",
        "gain": "1",
        "owner": "eddie",
    }


def test_the_questionnaire_reads_the_same_rows_whatever_the_owners(draft, editor, manager, signed_in):
    from tests.web.test_questionnaire_queries import PAGE_QUERIES, page_queries

    client = signed_in(editor)
    none = page_queries(client, draft)
    for code in ("data-1", "data-2", "model-3", "infra-4", "monitoring-5"):
        item_assign(actor=manager, audit=draft, item_code=code, assignee=editor)
    for n in range(3):
        user = make_user(f"helper{n}")
        Membership.objects.create(team=draft.project.team, user=user, role=Role.EDITOR)
        item_assign(actor=manager, audit=draft, item_code=f"infra-{n + 1}", assignee=user)
    assert page_queries(client, draft) == none == PAGE_QUERIES
    page = client.get(f"/audits/{draft.pk}/").content.decode()
    assert page.count("Owner: eddie") == 5 and "Owner: helper2" in page
