from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits.models import Answer, AnswerChange, AuditStatus
from audits.selectors import audit_score
from audits.services import (
    AnswerConflict,
    AuditLocked,
    BulkAnswerError,
    answer_save,
    answers_bulk_upsert,
    audit_start,
    audit_submit,
    membership_set,
    project_create,
)


@pytest.fixture
def audit(project, manager, rubric):
    return audit_start(actor=manager, project=project, rubric=rubric)


def test_editor_can_answer_and_history_records_before_and_after(audit, editor):
    first = answer_save(actor=editor, audit=audit, item_code="data-1", status="manual", notes="wiki page")
    second = answer_save(
        actor=editor,
        audit=audit,
        item_code="data-1",
        status="automated",
        notes="CI job",
        evidence=["https://ci.example.com/job/1"],
        base_version=first.version,
    )
    assert second.version == first.version + 1
    changes = list(AnswerChange.objects.filter(answer=second).order_by("pk"))
    assert [(c.status_before, c.status_after) for c in changes] == [("", "manual"), ("manual", "automated")]
    assert changes[1].notes_before == "wiki page" and changes[1].notes_after == "CI job"


def test_viewer_cannot_answer(audit, viewer):
    with pytest.raises(PermissionDenied):
        answer_save(actor=viewer, audit=audit, item_code="data-1", status="manual")
    assert not Answer.objects.exists()


def test_a_stale_save_raises_a_conflict_and_does_not_overwrite(audit, editor, manager):
    seen = answer_save(actor=editor, audit=audit, item_code="model-1", status="manual", notes="mine")
    answer_save(
        actor=manager,
        audit=audit,
        item_code="model-1",
        status="automated",
        notes="theirs",
        base_version=seen.version,
    )
    with pytest.raises(AnswerConflict) as excinfo:
        answer_save(
            actor=editor,
            audit=audit,
            item_code="model-1",
            status="not_done",
            notes="stale",
            base_version=seen.version,
        )
    assert excinfo.value.current.notes == "theirs"
    stored = Answer.objects.get(audit=audit, item__code="model-1")
    assert (stored.status, stored.notes) == ("automated", "theirs")


def test_a_first_save_that_missed_someone_elses_first_save_conflicts(audit, editor, manager):
    answer_save(actor=manager, audit=audit, item_code="infra-1", status="automated", base_version=0)
    with pytest.raises(AnswerConflict):
        answer_save(actor=editor, audit=audit, item_code="infra-1", status="manual", base_version=0)


@pytest.mark.parametrize("link", ["ftp://example.com/x", "javascript:alert(1)", "not a url"])
def test_evidence_links_must_be_http_or_https(audit, editor, link):
    with pytest.raises(ValidationError):
        answer_save(actor=editor, audit=audit, item_code="data-1", status="manual", evidence=[link])
    assert not Answer.objects.exists()


def test_bulk_upsert_is_all_or_nothing(audit, editor):
    answer_save(actor=editor, audit=audit, item_code="data-1", status="manual", notes="kept")
    entries = [{"item": "data-2", "status": "automated"}] * 499 + [{"item": "data-99", "status": "automated"}]
    with pytest.raises(BulkAnswerError) as excinfo:
        answers_bulk_upsert(actor=editor, audit=audit, entries=entries)
    assert list(excinfo.value.errors) == [499]
    assert "item" in excinfo.value.errors[499]
    assert list(Answer.objects.values_list("item__code", "notes")) == [("data-1", "kept")]


def test_bulk_upsert_saves_every_answer(audit, editor):
    entries = [{"item": f"data-{n}", "status": "automated", "notes": f"n{n}"} for n in range(1, 8)]
    answers_bulk_upsert(actor=editor, audit=audit, entries=entries)
    assert audit_score(audit=audit).section("data").score == Decimal(7)


def test_submit_freezes_scores_and_answers(audit, editor, manager):
    answers_bulk_upsert(
        actor=editor,
        audit=audit,
        entries=[{"item": f"{s}-1", "status": "manual"} for s in ("data", "model", "infra", "monitoring")],
    )
    submitted = audit_submit(actor=manager, audit=audit)
    assert submitted.status == AuditStatus.SUBMITTED
    assert submitted.final_score == Decimal("0.5")
    assert submitted.section_scores == {"data": 0.5, "model": 0.5, "infra": 0.5, "monitoring": 0.5}
    assert submitted.band_label
    with pytest.raises(AuditLocked):
        answer_save(actor=manager, audit=submitted, item_code="data-2", status="automated")
    with pytest.raises(AuditLocked):
        audit_submit(actor=manager, audit=submitted)


def test_editor_cannot_submit(audit, editor):
    with pytest.raises(PermissionDenied):
        audit_submit(actor=editor, audit=audit)


def test_starting_from_the_last_submitted_audit_carries_answers_over(audit, editor, manager, project):
    answer_save(actor=editor, audit=audit, item_code="data-3", status="automated", notes="from before")
    audit_submit(actor=manager, audit=audit)
    follow_up = audit_start(actor=manager, project=project, copy_from_latest=True)
    copied = Answer.objects.get(audit=follow_up)
    assert (copied.item.code, copied.status, copied.notes, copied.carried_over) == (
        "data-3",
        "automated",
        "from before",
        True,
    )
    confirmed = answer_save(actor=editor, audit=follow_up, item_code="data-3", status="automated", notes="from before")
    assert confirmed.carried_over is False


def test_copy_from_latest_without_a_submitted_audit_is_refused(project, manager):
    with pytest.raises(ValidationError):
        audit_start(actor=manager, project=project, copy_from_latest=True)


def test_manager_adds_members_by_email_and_the_last_manager_stays(team, manager, viewer):
    membership = membership_set(actor=manager, team=team, username_or_email="VERA@example.com", role="editor")
    assert membership.role == "editor"
    with pytest.raises(ValidationError):
        membership_set(actor=manager, team=team, username_or_email="mara", role="viewer")
    with pytest.raises(ValidationError):
        membership_set(actor=manager, team=team, username_or_email="nobody", role="viewer")


def test_only_a_manager_creates_projects_and_slugs_are_unique(team, manager, editor):
    with pytest.raises(PermissionDenied):
        project_create(actor=editor, team=team, name="Fraud")
    first = project_create(actor=manager, team=team, name="Fraud model")
    second = project_create(actor=manager, team=team, name="Fraud model")
    assert (first.slug, second.slug) == ("fraud-model", "fraud-model-2")
    with pytest.raises(ValidationError):
        project_create(actor=manager, team=team, name="x", slug="fraud-model")
