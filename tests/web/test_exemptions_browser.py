"""As a manager would, in headless Chromium: mark an item not applicable, see it pending, approve it, and see
the score with the exemption and the strict score beside it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from audits.models import Answer
from audits.services import answers_bulk_upsert
from tests.web.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

expect.set_options(timeout=10_000)

JUSTIFICATION = "A single global model: there are no data slices to compare."


def test_a_manager_marks_an_item_not_applicable_approves_it_and_sees_both_scores(page, live_server, draft, manager):
    codes = draft.rubric.items.values_list("code", flat=True)
    answers_bulk_upsert(
        actor=manager, audit=draft, entries=[{"item": c, "status": "automated"} for c in codes if c != "model-6"]
    )
    sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/audits/{draft.pk}/#item-model-6")
    item = page.locator("#item-model-6")
    expires = item.locator("input[name=expires_on]")
    expect(expires).to_be_hidden()  # asked for only while "Not applicable" is chosen
    item.locator("textarea[name=notes]").fill(JUSTIFICATION)
    with page.expect_response(lambda r: "/answers/model-6/" in r.url and r.request.method == "POST") as saved:
        item.locator("label[for='status-model-6-not_applicable']").click()
    assert saved.value.status == 200
    expect(expires).to_be_visible()
    expect(item.locator("[data-exemption-state]")).to_have_text("Pending approval")
    expect(page.locator("[data-final]").first).to_have_text("6")  # a pending exemption counts as not done
    assert Answer.objects.get(audit=draft, item__code="model-6").exemption_state == "pending"

    page.reload()
    decision = page.locator("#item-model-6 [data-exemption-decision]")
    decision.locator("textarea[name=comment]").fill("Agreed; look again with regional models.")
    decision.locator("button[value=approve]").click()
    page.wait_for_load_state()
    expect(page.locator("#item-model-6 [data-exemption-state]")).to_contain_text("approved")
    expect(page.locator("[data-final]").first).to_have_text("7")
    strict = page.locator("[data-score-exemptions]").first
    expect(strict).to_be_visible()
    expect(strict.locator("[data-exempted]")).to_have_text("1")
    expect(strict.locator("[data-final-strict]")).to_have_text("6")
    assert Answer.objects.get(audit=draft, item__code="model-6").decision_by == manager
