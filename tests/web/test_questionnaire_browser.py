"""The questionnaire in real headless Chromium: answered end to end on a phone, filters, folding and
histories loaded when opened, and the browser-storage safety net still there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from audits import services
from audits.models import Answer, Audit, AuditStatus
from tests.web.test_browser import choose_status, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

expect.set_options(timeout=10_000)

PHONE = {"width": 390, "height": 844}
OVERFLOW = "() => document.documentElement.scrollWidth > window.innerWidth"


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized tab (390 x 844, touch) that may only talk to the live server."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    problems: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live_server.url)
            else (problems.append(route.request.url), route.abort())
        ),
    )
    tab.on("console", lambda message: message.type == "error" and problems.append(message.text))
    tab.on("pageerror", lambda error: problems.append(str(error)))
    yield tab
    context.close()
    assert not problems, problems


def assert_no_sideways_scroll(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert not page.evaluate(OVERFLOW), f"the page is {widths[0]} px wide in a {widths[1]} px window"


def codes_by_section(rubric) -> list[tuple[str, list[str]]]:
    return [
        (section.key, list(section.items.order_by("order").values_list("code", flat=True)))
        for section in rubric.sections.order_by("order")
    ]


def test_a_manager_answers_a_whole_audit_on_a_phone(phone, live_server, project, manager, rubric):
    page = phone
    sign_in(page, live_server, manager.username)
    assert_no_sideways_scroll(page)
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    assert_no_sideways_scroll(page)
    page.click("text=Start audit")
    page.wait_for_url("**/audits/*/")
    assert_no_sideways_scroll(page)

    sections = codes_by_section(rubric)
    for key, codes in sections:
        for code in codes:
            page.locator(f"label[for='status-{code}-manual']").scroll_into_view_if_needed()
            choose_status(page, code, "manual")
        expect(page.locator(f"aside [data-section-sum='{key}']")).to_have_text("3.5 / 7")
    assert_no_sideways_scroll(page)

    # Down at the last item, the bar at the top still shows every section's sum and the score.
    last = sections[-1][1][-1]
    page.locator(f"#item-{last}").scroll_into_view_if_needed()
    for key, _codes in sections:
        box = page.locator(f"aside [data-section-nav='{key}'] [data-section-sum]").bounding_box()
        assert box is not None and 0 <= box["y"] < 120, (key, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (key, box)
    expect(page.locator("aside [data-final]")).to_be_in_viewport()
    expect(page.locator("aside [data-final]")).to_have_text("3.5")

    # Long notes and a long link do not widen the page either.
    code = sections[0][1][0]
    page.locator(f"#notes-{code}").scroll_into_view_if_needed()
    with page.expect_response(lambda r: f"/answers/{code}/" in r.url and r.request.method == "POST"):
        page.fill(f"#notes-{code}", "x" * 400)
        page.fill(f"#evidence-{code}", "https://ci.example.com/" + "a" * 300)
    expect(page.locator(f"#item-{code} [data-save-state]")).to_have_attribute("data-state", "saved")
    assert_no_sideways_scroll(page)

    page.locator(".questions__submit [data-open-submit]").click()
    dialog = page.locator("#submit-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-unanswered-warning]")).to_be_hidden()
    dialog.locator("[data-submit-confirm]").click()
    page.wait_for_url(lambda url: "/submit/" not in url)
    assert_no_sideways_scroll(page)
    audit = Audit.objects.get(project=project)
    assert audit.status == AuditStatus.SUBMITTED
    assert audit.final_score == 3.5


def test_filters_folding_and_histories_work_without_a_reload(page, live_server, draft, manager, editor, rubric):
    (_key, codes), *_ = codes_by_section(rubric)
    services.answer_save(actor=editor, audit=draft, item_code=codes[0], status="manual", notes="Editor's first words")
    sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/audits/{draft.pk}/")
    choose_status(page, codes[1], "automated")

    page.click("a[data-filter='unanswered']")
    expect(page.locator(f"#item-{codes[0]}")).to_be_hidden()
    expect(page.locator(f"#item-{codes[1]}")).to_be_hidden()
    expect(page.locator(f"#item-{codes[2]}")).to_be_visible()
    expect(page.locator("[data-filter-count='unanswered']")).to_have_text("26")
    assert page.url.endswith("?show=unanswered")
    page.click("a[data-filter='mine']")
    expect(page.locator(f"#item-{codes[1]}")).to_be_visible()
    expect(page.locator(f"#item-{codes[0]}")).to_be_hidden()
    page.click("a[data-filter='']")
    expect(page.locator(f"#item-{codes[0]}")).to_be_visible()

    page.click("a[data-collapse]")
    expect(page.locator(f"#notes-{codes[0]}")).to_be_hidden()
    expect(page.locator(f"#notes-{codes[2]}")).to_be_visible()
    page.click("a[data-collapse]")
    expect(page.locator(f"#notes-{codes[0]}")).to_be_visible()

    history = page.locator(f"#item-{codes[0]} details.history")
    with page.expect_response(lambda r: f"/items/{codes[0]}/history/" in r.url):
        history.locator("summary").click()
    expect(history.locator("[data-history]")).to_contain_text("Editor's first words")
    with page.expect_response(lambda r: f"/items/{codes[0]}/history/" in r.url):
        choose_status(page, codes[0], "automated")  # an open history is read again after a save
    expect(history.locator("[data-history-count]")).to_have_text("2")
    expect(history.locator("[data-history] li")).to_have_count(2)


def test_a_viewer_reads_histories_and_filters_too(page, live_server, draft, editor, viewer, rubric):
    code = codes_by_section(rubric)[0][1][0]
    services.answer_save(actor=editor, audit=draft, item_code=code, status="manual", notes="For the record")
    sign_in(page, live_server, viewer.username)
    page.goto(f"{live_server.url}/audits/{draft.pk}/")
    assert page.locator("form.answer-form").count() == 0
    page.locator(f"#item-{code} details.history summary").click()
    expect(page.locator(f"#item-{code} [data-history]")).to_contain_text("For the record")
    page.click("a[data-filter='unanswered']")
    expect(page.locator(f"#item-{code}")).to_be_hidden()
    assert Answer.objects.filter(audit=draft).count() == 1
