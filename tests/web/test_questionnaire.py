"""The questionnaire's save endpoint (JSON and plain form), conflicts, submit, history, carry-over."""

from __future__ import annotations

import json

from audits import services
from audits.models import Answer, AnswerChange, AuditStatus


def save_json(client, audit, code, **body):
    return client.post(f"/audits/{audit.pk}/answers/{code}/", json.dumps(body), content_type="application/json")


def test_json_save_returns_the_saved_answer_and_the_servers_score(draft, editor, item_code, signed_in):
    response = save_json(
        signed_in(editor), draft, item_code, status="automated", notes="CI", evidence=["https://ci.example.com/1"]
    )
    assert response.status_code == 200
    data = response.json()
    assert data["answer"]["status"] == "automated"
    assert data["answer"]["version"] == 1
    assert data["score"]["answered"] == 1
    assert data["score"]["total"] == 28
    assert data["score"]["final"] == "0"
    assert data["score"]["sections"]["data"]["score"] == "1"
    assert data["history_changed"] is True
    answer = Answer.objects.get(audit=draft, item__code=item_code)
    assert answer.evidence == ["https://ci.example.com/1"]
    assert answer.answered_by == editor


def test_a_stale_save_returns_409_with_the_other_answer_and_does_not_overwrite(
    draft, editor, manager, item_code, signed_in
):
    services.answer_save(actor=editor, audit=draft, item_code=item_code, status="manual", notes="Editor's notes")
    services.answer_save(
        actor=editor, audit=draft, item_code=item_code, status="automated", notes="Editor again", base_version=1
    )
    response = save_json(signed_in(manager), draft, item_code, status="not_done", notes="Mine", base_version=1)
    assert response.status_code == 409
    conflict = response.json()["conflict"]
    assert conflict["status"] == "automated"
    assert conflict["notes"] == "Editor again"
    assert conflict["version"] == 2
    assert conflict["answered_by"] == editor.username
    answer = Answer.objects.get(audit=draft, item__code=item_code)
    assert (answer.status, answer.notes, answer.version) == ("automated", "Editor again", 2)


def test_overwriting_knowingly_saves_with_the_version_shown_in_the_conflict(
    draft, editor, manager, item_code, signed_in
):
    services.answer_save(actor=editor, audit=draft, item_code=item_code, status="manual")
    client = signed_in(manager)
    assert save_json(client, draft, item_code, status="not_done", base_version=0).status_code == 409
    response = save_json(client, draft, item_code, status="not_done", base_version=1)
    assert response.status_code == 200
    assert Answer.objects.get(audit=draft, item__code=item_code).status == "not_done"


def test_a_non_http_evidence_link_is_refused_with_a_message(draft, editor, item_code, signed_in):
    response = save_json(signed_in(editor), draft, item_code, status="manual", evidence=["ftp://files.example.com"])
    assert response.status_code == 400
    assert "ftp://files.example.com" in response.json()["errors"][0]
    assert not Answer.objects.filter(audit=draft).exists()


def test_unreadable_json_is_a_400(draft, editor, item_code, signed_in):
    response = signed_in(editor).post(
        f"/audits/{draft.pk}/answers/{item_code}/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_form_post_without_javascript_saves_and_redirects_to_the_item(draft, editor, item_code, signed_in):
    response = signed_in(editor).post(
        f"/audits/{draft.pk}/answers/{item_code}/",
        {
            "status": "manual",
            "notes": "Reviewed by hand",
            "evidence": "https://a.example.com/x\r\n\r\nhttps://b.example.com/y",
            "base_version": "0",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/audits/{draft.pk}/#item-{item_code}"
    answer = Answer.objects.get(audit=draft, item__code=item_code)
    assert answer.evidence == ["https://a.example.com/x", "https://b.example.com/y"]
    assert answer.notes == "Reviewed by hand"


def test_form_post_conflict_keeps_the_typed_text_and_shows_theirs(draft, editor, manager, item_code, signed_in):
    services.answer_save(actor=editor, audit=draft, item_code=item_code, status="automated", notes="Theirs")
    response = signed_in(manager).post(
        f"/audits/{draft.pk}/answers/{item_code}/",
        {"status": "not_done", "notes": "My unsaved words", "evidence": "", "base_version": "0"},
    )
    assert response.status_code == 409
    content = response.content.decode()
    assert "My unsaved words" in content
    assert "Theirs" in content
    assert "Someone else changed this answer while you were editing it." in content
    assert Answer.objects.get(audit=draft, item__code=item_code).notes == "Theirs"


def test_form_post_with_a_bad_link_keeps_the_typed_text(draft, editor, item_code, signed_in):
    response = signed_in(editor).post(
        f"/audits/{draft.pk}/answers/{item_code}/",
        {"status": "manual", "notes": "Keep me", "evidence": "javascript:alert(1)", "base_version": "0"},
    )
    assert response.status_code == 400
    assert "Keep me" in response.content.decode()
    assert not Answer.objects.filter(audit=draft).exists()


def test_submit_freezes_the_audit_and_renders_it_read_only(draft, manager, editor, item_code, signed_in):
    services.answer_save(actor=editor, audit=draft, item_code=item_code, status="automated")
    response = signed_in(manager).post(f"/audits/{draft.pk}/submit/")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == AuditStatus.SUBMITTED
    assert draft.final_score == 0
    for user in (manager, editor):
        content = signed_in(user).get(f"/audits/{draft.pk}/").content.decode()
        assert 'class="answer-form"' not in content
        assert "data-readonly-notice" in content
    refused = save_json(signed_in(editor), draft, item_code, status="not_done", base_version=1)
    assert refused.status_code == 409
    assert refused.json()["locked"] is True
    assert Answer.objects.get(audit=draft, item__code=item_code).status == "automated"


def test_staff_cannot_change_a_submitted_audit_either(submitted, staff, item_code, signed_in):
    response = save_json(signed_in(staff), submitted, item_code, status="not_done", base_version=1)
    assert response.status_code == 409
    assert Answer.objects.get(audit=submitted, item__code=item_code).status == "automated"


def test_submit_page_warns_about_unanswered_items(draft, manager, signed_in):
    content = signed_in(manager).get(f"/audits/{draft.pk}/submit/").content.decode()
    assert "28 items are unanswered; they count as not done (0 points)." in content


def test_history_is_shown_per_item_and_per_audit(draft, editor, manager, item_code, signed_in):
    services.answer_save(actor=editor, audit=draft, item_code=item_code, status="manual", notes="first words")
    services.answer_save(
        actor=manager, audit=draft, item_code=item_code, status="automated", notes="second words", base_version=1
    )
    assert AnswerChange.objects.filter(answer__audit=draft).count() == 2
    client = signed_in(editor)
    page = client.get(f"/audits/{draft.pk}/").content.decode()
    assert "data-history-count>2<" in page
    assert "first words" not in page  # read when the item's history is opened
    fragment = client.get(f"/audits/{draft.pk}/items/{item_code}/history/").content.decode()
    assert "first words" in fragment and "second words" in fragment
    assert "<html" not in fragment
    history = client.get(f"/audits/{draft.pk}/history/").content.decode()
    assert "first words" in history and "second words" in history
    assert editor.username in history and manager.username in history
    assert "Manual, documented and shared" in history and "Automated and repeated" in history


def test_the_history_names_the_links_a_change_added_and_removed_and_records_the_submit(
    manager, project, rubric, signed_in
):
    audit = services.audit_start(actor=manager, project=project, rubric=rubric)
    first = services.answer_save(
        actor=manager, audit=audit, item_code="data-1", status="manual", evidence=["https://wiki.example.com/old"]
    )
    services.answer_save(
        actor=manager,
        audit=audit,
        item_code="data-1",
        status="manual",
        evidence=["https://ci.example.com/new"],
        base_version=first.version,
    )
    services.audit_submit(actor=manager, audit=audit)
    page = signed_in(manager).get(f"/audits/{audit.pk}/history/").content.decode()
    assert '<li class="added"><span aria-label="added">+</span> https://ci.example.com/new</li>' in page
    assert "<s>https://wiki.example.com/old</s>" in page
    assert 'data-event="submitted"' in page and "Submitted the audit" in page


def test_carried_over_answers_are_marked_until_confirmed(submitted, manager, item_code, signed_in):
    audit = services.audit_start(actor=manager, project=submitted.project, copy_from_latest=True)
    client = signed_in(manager)
    assert "Carried over: please confirm" in client.get(f"/audits/{audit.pk}/").content.decode()
    answer = Answer.objects.get(audit=audit, item__code=item_code)
    response = save_json(client, audit, item_code, status=answer.status, base_version=answer.version)
    assert response.status_code == 200
    assert response.json()["answer"]["carried_over"] is False
    assert "Carried over: please confirm" not in client.get(f"/audits/{audit.pk}/").content.decode()


def test_start_audit_from_the_last_submitted_one_copies_answers(submitted, manager, signed_in):
    response = signed_in(manager).post(
        f"/projects/{submitted.project.slug}/audits/new/", {"rubric": submitted.rubric_id, "start_from": "copy"}
    )
    assert response.status_code == 302
    new = submitted.project.audits.exclude(pk=submitted.pk).get()
    assert new.copied_from == submitted
    assert new.answers.filter(carried_over=True).count() == 1


def test_questionnaire_query_count_does_not_depend_on_the_number_of_answers(
    draft, editor, rubric, signed_in, django_assert_max_num_queries
):
    client = signed_in(editor)
    client.get(f"/audits/{draft.pk}/")  # warm the rubric cache
    for item in rubric.items.all():
        services.answer_save(actor=editor, audit=draft, item_code=item.code, status="manual")
    with django_assert_max_num_queries(25):
        assert client.get(f"/audits/{draft.pk}/").status_code == 200
