"""Next steps and owners in real headless Chromium: the panel follows each autosave, and "Assigned to me"
filters without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from audits.assignments.services import item_assign
from audits.services import answers_bulk_upsert, audit_start
from tests.web.test_browser import choose_status, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

expect.set_options(timeout=10_000)


def test_the_panel_follows_each_save_and_my_items_filter_without_a_reload(
    page, live_server, project, manager, editor, rubric
):
    audit = audit_start(actor=manager, project=project, rubric=rubric)
    statuses = {f"{section}-{n}": "automated" for section in ("data", "model", "infra") for n in range(1, 8)}
    statuses.update({f"monitoring-{n}": "manual" for n in range(1, 4)})  # monitoring 1.5
    answers_bulk_upsert(actor=manager, audit=audit, entries=[{"item": c, "status": s} for c, s in statuses.items()])
    item_assign(actor=manager, audit=audit, item_code="monitoring-5", assignee=editor)
    item_assign(actor=manager, audit=audit, item_code="data-2", assignee=manager)

    sign_in(page, live_server, editor.username)
    page.goto(f"{live_server.url}/audits/{audit.pk}/")
    summary = page.locator("[data-next-steps-summary]")
    expect(summary).to_have_text("1 more item in Monitoring tests for ML reaches Reasonably tested")
    expect(page.locator("[data-next-steps] a")).to_have_text(["monitoring-4"])

    choose_status(page, "monitoring-4", "manual")  # monitoring 2: still First steps, one more item
    expect(page.locator("[data-next-steps] a")).to_have_text(["monitoring-5"])
    choose_status(page, "monitoring-5", "automated")  # monitoring 3: Reasonably tested; next, above 3
    expect(summary).to_have_text("1 more item in Monitoring tests for ML reaches Strongly tested")
    expect(page.locator("[data-next-steps] a")).to_have_text(["monitoring-6"])

    expect(page.locator("#item-monitoring-5 [data-owner]")).to_have_text("Owner: eddie")
    page.click("a[data-filter='assigned']")
    expect(page.locator("article.item:not([hidden])")).to_have_count(1)
    expect(page.locator("article.item:not([hidden])")).to_have_attribute("id", "item-monitoring-5")
    assert page.url.endswith("?show=assigned")
