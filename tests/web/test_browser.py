"""The whole browser path in real headless Chromium: sign in, answer, reload, Spanish, submit."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from audits.models import Answer, Audit, AuditStatus
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Saves take a few hundred milliseconds on a busy CI machine; allow for that rather than flake.
expect.set_options(timeout=10_000)


def first_codes_per_section(rubric) -> list[str]:
    return [section.items.order_by("order").first().code for section in rubric.sections.order_by("order")]


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/account/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/account/login/" not in url)


def choose_status(page, code: str, status: str) -> None:
    """Choose a status and wait for its save (the item may already show "saved" from an earlier one)."""
    with page.expect_response(lambda r: f"/answers/{code}/" in r.url and r.request.method == "POST") as saved:
        page.click(f"label[for='status-{code}-{status}']")
    assert saved.value.status == 200
    expect(page.locator(f"#item-{code} [data-save-state]")).to_have_attribute("data-state", "saved")


def test_manager_answers_an_audit_end_to_end_in_english_and_spanish(page, live_server, project, manager, rubric):
    sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.click("text=Start audit")
    page.wait_for_url("**/audits/*/")
    audit = Audit.objects.get(project=project)
    codes = first_codes_per_section(rubric)
    final = page.locator("aside [data-final]")
    expect(final).to_have_text("0")

    # One automated answer per section: each section sum moves, and the final score with the last one.
    for index, code in enumerate(codes):
        choose_status(page, code, "automated")
        section_key = rubric.sections.order_by("order")[index].key
        expect(page.locator(f"aside [data-section-sum='{section_key}']")).to_have_text("1 / 7")
    expect(final).to_have_text("1")
    expect(page.locator("aside [data-band]")).to_have_text("Serious gaps")
    expect(page.locator("aside [data-progress]")).to_have_text("4 of 28 answered")

    # Notes and evidence are saved on their own, after a short pause in typing.
    with page.expect_response(lambda r: f"/answers/{codes[0]}/" in r.url and r.request.method == "POST"):
        page.fill(f"#notes-{codes[0]}", "Schema checked in CI")
        page.fill(f"#evidence-{codes[0]}", "https://ci.example.com/job/1\nhttps://wiki.example.com/schema")
    expect(page.locator(f"#item-{codes[0]} [data-save-state]")).to_have_attribute("data-state", "saved")
    choose_status(page, codes[1], "manual")
    expect(page.locator(f"#item-{codes[1]} [data-history-count]")).to_have_text("2")

    page.reload()
    for code in codes[:1] + codes[2:]:
        expect(page.locator(f"#status-{code}-automated")).to_be_checked()
    expect(page.locator(f"#status-{codes[1]}-manual")).to_be_checked()
    expect(page.locator(f"#notes-{codes[0]}")).to_have_value("Schema checked in CI")
    expect(page.locator(f"#evidence-{codes[0]}")).to_have_value(
        "https://ci.example.com/job/1\nhttps://wiki.example.com/schema"
    )
    stored = Answer.objects.get(audit=audit, item__code=codes[0])
    assert stored.evidence == ["https://ci.example.com/job/1", "https://wiki.example.com/schema"]

    page.select_option("#language-select", "es")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("aside [data-progress]")).to_have_text("4 de 28 respondidas")
    first_item = rubric.items.get(code=codes[0])
    expect(page.locator(f"#title-{codes[0]}")).to_have_text(first_item.localized("title", "es"))

    page.click("[data-open-submit]")
    dialog = page.locator("#submit-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-unanswered]")).to_have_text("24")
    dialog.locator("[data-submit-confirm]").click()
    page.wait_for_url(lambda url: "/submit/" not in url)

    audit.refresh_from_db()
    assert audit.status == AuditStatus.SUBMITTED
    page.goto(f"{live_server.url}/audits/{audit.pk}/")
    expect(page.locator("[data-readonly-notice]")).to_be_visible()
    assert page.locator("form.answer-form").count() == 0
    assert page.locator("[data-open-submit]").count() == 0


def test_a_failed_save_keeps_the_text_and_is_retried_until_it_succeeds(page, live_server, draft, manager, rubric):
    sign_in(page, live_server, manager.username)
    code = first_codes_per_section(rubric)[0]
    page.goto(f"{live_server.url}/audits/{draft.pk}/")
    failures = {"left": 1}

    def fail_once(route):
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=503, body="unavailable")
        else:
            route.continue_()

    page.route(f"**/audits/{draft.pk}/answers/{code}/", fail_once)
    page.click(f"label[for='status-{code}-manual']")
    state = page.locator(f"#item-{code} [data-save-state]")
    expect(state).to_have_attribute("data-state", "failed")
    expect(page.locator(f"#status-{code}-manual")).to_be_checked()
    expect(state).to_have_attribute("data-state", "saved", timeout=10_000)
    assert Answer.objects.get(audit=draft, item__code=code).status == "manual"
    # The refused request shows up in Chromium's console; it is the one this test provoked.
    assert [p for p in page.problems if "status of 503" in p]
    page.problems[:] = [p for p in page.problems if "status of 503" not in p]


def test_a_conflict_shows_the_other_answer_and_overwriting_is_a_choice(
    page, live_server, draft, manager, editor, rubric
):
    from audits import services

    sign_in(page, live_server, manager.username)
    code = first_codes_per_section(rubric)[0]
    page.goto(f"{live_server.url}/audits/{draft.pk}/")
    services.answer_save(actor=editor, audit=draft, item_code=code, status="automated", notes="Editor was first")

    page.click(f"label[for='status-{code}-not_done']")
    conflict = page.locator(f"#item-{code} [data-conflict]")
    expect(conflict).to_be_visible()
    expect(conflict.locator("[data-their='notes']")).to_have_text("Editor was first")
    assert Answer.objects.get(audit=draft, item__code=code).status == "automated"

    conflict.locator("[data-overwrite]").click()
    expect(page.locator(f"#item-{code} [data-save-state]")).to_have_attribute("data-state", "saved")
    assert Answer.objects.get(audit=draft, item__code=code).status == "not_done"
    # The 409 shows up in Chromium's console; it is the one this test provoked.
    page.problems[:] = [p for p in page.problems if "status of 409" not in p]


def test_without_javascript_each_item_saves_with_its_own_button(browser, live_server, draft, editor, rubric):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, editor.username)
        code = first_codes_per_section(rubric)[0]
        page.goto(f"{live_server.url}/audits/{draft.pk}/")
        item = page.locator(f"#item-{code}")
        item.locator(f"label[for='status-{code}-automated']").click()
        item.locator(f"#notes-{code}").fill("Saved the old way")
        item.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url(f"**/audits/{draft.pk}/#item-{code}")
        expect(page.locator(".message--success")).to_have_text("Answer saved.")
        expect(page.locator(f"#status-{code}-automated")).to_be_checked()
        expect(page.locator(f"#notes-{code}")).to_have_value("Saved the old way")
    finally:
        context.close()
    answer = Answer.objects.get(audit=draft, item__code=code)
    assert (answer.status, answer.notes) == ("automated", "Saved the old way")


def test_taking_their_answer_shows_it_and_saves_nothing(page, live_server, draft, manager, editor, rubric):
    from audits import services

    sign_in(page, live_server, manager.username)
    code = first_codes_per_section(rubric)[0]
    page.goto(f"{live_server.url}/audits/{draft.pk}/")
    services.answer_save(actor=editor, audit=draft, item_code=code, status="manual", notes="Theirs stays")

    page.fill(f"#notes-{code}", "Mine goes")
    page.click(f"label[for='status-{code}-automated']")
    conflict = page.locator(f"#item-{code} [data-conflict]")
    expect(conflict).to_be_visible()
    conflict.locator("[data-take-theirs]").click()
    expect(conflict).to_be_hidden()
    expect(page.locator(f"#status-{code}-manual")).to_be_checked()
    expect(page.locator(f"#notes-{code}")).to_have_value("Theirs stays")
    answer = Answer.objects.get(audit=draft, item__code=code)
    assert (answer.status, answer.notes, answer.version) == ("manual", "Theirs stays", 1)
    # A later change is based on their version, so it saves without a new conflict. Taking theirs already
    # shows "saved", so wait for the save's own response rather than for that state.
    choose_status(page, code, "automated")
    assert Answer.objects.get(audit=draft, item__code=code).status == "automated"
    page.problems[:] = [p for p in page.problems if "status of 409" not in p]


def test_unsaved_text_survives_a_reload_and_is_saved_afterwards(page, live_server, draft, editor, rubric):
    sign_in(page, live_server, editor.username)
    code = first_codes_per_section(rubric)[0]
    page.goto(f"{live_server.url}/audits/{draft.pk}/")
    save_url = f"**/audits/{draft.pk}/answers/{code}/"
    page.route(save_url, lambda route: route.abort())
    page.click(f"label[for='status-{code}-manual']")
    page.fill(f"#notes-{code}", "Typed while offline")
    expect(page.locator(f"#item-{code} [data-save-state]")).to_have_attribute("data-state", "failed")
    assert not Answer.objects.filter(audit=draft).exists()

    page.unroute(save_url)
    page.on("dialog", lambda dialog: dialog.accept())  # the "leave with unsaved changes?" prompt
    page.reload()
    expect(page.locator(f"#notes-{code}")).to_have_value("Typed while offline")
    expect(page.locator(f"#item-{code} [data-save-state]")).to_have_attribute("data-state", "saved")
    answer = Answer.objects.get(audit=draft, item__code=code)
    assert (answer.status, answer.notes) == ("manual", "Typed while offline")
    page.problems[:] = [p for p in page.problems if "ERR_FAILED" not in p]
