"""The questionnaire: one page per audit, one small form per item, saved item by item.

The page's script posts each change as JSON to `answer_save` and shows the score the server
sends back; without JavaScript the same item forms post normally and the page redirects back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format, number_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audits import selectors, services
from audits.api.exceptions import too_large_message
from audits.api.parsers import load_json
from audits.forms import STATUS_LABELS, AnswerForm
from audits.models import Answer, AnswerChange, Audit, Role
from audits.services import AnswerConflict, AuditLocked
from rubric.models import AnswerStatus, Item, Section
from rubric.scoring import ScoreResult
from rubric.selectors import band_labels_localized, rubric_with_structure


@dataclass
class ItemRow:
    item: Item
    answer: Answer | None
    changes: list[AnswerChange]
    status: str = ""
    notes: str = ""
    evidence_text: str = ""
    base_version: int = 0
    errors: list[str] = field(default_factory=list)
    conflict: Answer | None = None


@dataclass
class SectionBlock:
    section: Section
    score: str
    max: str
    answered: int
    total: int
    rows: list[ItemRow]


def _number(value: Decimal) -> str:
    return number_format(value.normalize() if value else Decimal(0))


def score_payload(result: ScoreResult, bands: dict[str, str]) -> dict[str, Any]:
    """The score as the page shows it, numbers formatted for the active language."""
    return {
        "final": _number(result.final),
        "band": bands.get(result.band.label, result.band.label) if result.band else "",
        "answered": result.answered,
        "total": result.total,
        "unanswered": result.total - result.answered,
        "percent": round(100 * result.answered / result.total) if result.total else 0,
        "sections": {
            s.key: {"score": _number(s.score), "max": _number(s.max), "answered": s.answered, "total": s.total}
            for s in result.sections
        },
    }


def _answer_payload(answer: Answer) -> dict[str, Any]:
    who = answer.answered_by.get_username() if answer.answered_by else ""
    return {
        "item": answer.item.code,
        "status": answer.status,
        "status_label": str(STATUS_LABELS.get(answer.status, answer.status)),  # type: ignore[call-overload]
        "notes": answer.notes,
        "evidence": answer.evidence,
        "version": answer.version,
        "carried_over": answer.carried_over,
        "answered_by": who,
        "answered_at": date_format(localtime(answer.answered_at), "DATETIME_FORMAT") if answer.answered_at else "",
    }


def _can_edit(user: Any, audit: Audit) -> bool:
    return not audit.is_submitted and selectors.has_role(user=user, team=audit.project.team, at_least=Role.EDITOR)


def _script_strings() -> dict[str, str]:
    """Texts the page's script shows, translated here; {name} marks a value the script fills in."""
    return {
        "saving": _("Saving…"),
        "saved": _("Saved"),
        "retrying": _("Not saved – retrying in {seconds} s"),  # noqa: RUF001
        "failed": _("Not saved: {error}"),
        "conflict": _("Not saved: someone else changed this answer"),
        "needStatus": _("Choose an answer to save your notes"),
        "restored": _("Restored unsaved changes from this browser"),
        "progress": _("{answered} of {total} answered"),
        "answeredBy": _("Last saved by {who}, {when}"),
        "locked": _("This audit was submitted; reload the page."),
        "signedOut": _("Not saved: you are signed out. Sign in again in another tab; saving resumes by itself."),
    }


def _questionnaire(
    request: HttpRequest, audit: Audit, overrides: dict[str, dict[str, Any]] | None = None, status: int = 200
) -> HttpResponse:
    overrides = overrides or {}
    rubric = rubric_with_structure(audit.rubric_id)
    answers = {a.item_id: a for a in audit.answers.select_related("item", "answered_by")}
    changes: dict[int, list[AnswerChange]] = {}
    for change in selectors.audit_changes(audit=audit):
        changes.setdefault(change.answer.item_id, []).append(change)
    result = selectors.audit_score(audit=audit, status_map={a.item.code: a.status for a in answers.values()})
    bands = band_labels_localized()
    items = list(rubric.items.all())
    blocks = []
    for section in rubric.sections.all():
        score = result.section(section.key)
        rows = []
        for item in (i for i in items if i.section_id == section.pk):
            answer = answers.get(item.pk)
            row = ItemRow(item=item, answer=answer, changes=changes.get(item.pk, []))
            if answer:
                row.status, row.notes = answer.status, answer.notes
                row.evidence_text, row.base_version = "\n".join(answer.evidence), answer.version
            for key, value in overrides.get(item.code, {}).items():
                setattr(row, key, value)
            rows.append(row)
        blocks.append(
            SectionBlock(section, _number(score.score), _number(score.max), score.answered, score.total, rows)
        )
    is_manager = selectors.has_role(user=request.user, team=audit.project.team, at_least=Role.MANAGER)
    context = {
        "audit": audit,
        "project": audit.project,
        "rubric": rubric,
        "blocks": blocks,
        "score": score_payload(result, bands),
        "can_edit": _can_edit(request.user, audit),
        "can_submit": is_manager and not audit.is_submitted,
        "statuses": [
            (value, STATUS_LABELS[AnswerStatus(value)], rubric.points_for(value)) for value in AnswerStatus.values
        ],
        "carried_over_count": sum(1 for a in answers.values() if a.carried_over),
        "strings": _script_strings(),
    }
    return render(request, "audits/audit_detail.html", context, status=status)


def audit_detail(request: HttpRequest, audit_id: int) -> HttpResponse:
    return _questionnaire(request, selectors.audit_for_user(user=request.user, audit_id=audit_id))


def _version(value: Any) -> int | None:
    """The base version the script sent: a whole number (1e400 parses as an infinite float), or none."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError
    return int(value)


def _json_answer_save(request: HttpRequest, audit: Audit, item_code: str) -> JsonResponse:
    try:
        body = load_json(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError
        base_version = _version(body.get("base_version"))
    except RequestDataTooBig:
        return JsonResponse({"errors": [too_large_message()]}, status=413)
    except (ValueError, TypeError):
        return JsonResponse({"errors": [_("The request could not be read.")]}, status=400)
    notes = body.get("notes") or ""
    if not isinstance(notes, str):
        # str() of an object or a list would be saved as if someone had typed it.
        return JsonResponse({"errors": [_("Notes must be text.")]}, status=400)
    try:
        answer = services.answer_save(
            actor=request.user,
            audit=audit,
            item_code=item_code,
            status=body.get("status"),  # type: ignore[arg-type]
            notes=notes,
            evidence=body.get("evidence") or [],
            base_version=base_version,
        )
    except PermissionDenied as error:
        return JsonResponse({"errors": [str(error) or _("You may not change this audit.")]}, status=403)
    except AuditLocked as error:
        return JsonResponse({"locked": True, "errors": [str(error)]}, status=409)
    except AnswerConflict as conflict:
        return JsonResponse(
            {
                "conflict": _answer_payload(conflict.current),
                "errors": [_("Someone else changed this answer while you were editing it.")],
            },
            status=409,
        )
    except ValidationError as error:
        return JsonResponse({"errors": error.messages}, status=400)
    history_html = render_to_string(
        "audits/_item_history.html",
        {"changes": selectors.item_changes(audit=audit, item_code=item_code)},
        request=request,
    )
    return JsonResponse(
        {
            "answer": _answer_payload(answer),
            "score": score_payload(selectors.audit_score(audit=audit), band_labels_localized()),
            "history_html": history_html,
        }
    )


def _form_answer_save(request: HttpRequest, audit: Audit, item_code: str) -> HttpResponse:
    form = AnswerForm(request.POST)
    typed = {
        "status": request.POST.get("status", ""),
        "notes": request.POST.get("notes", ""),
        "evidence_text": request.POST.get("evidence", ""),
    }
    if not form.is_valid():
        errors = [str(message) for messages_ in form.errors.values() for message in messages_]
        return _questionnaire(request, audit, {item_code: {**typed, "errors": errors}}, status=400)
    try:
        services.answer_save(
            actor=request.user,
            audit=audit,
            item_code=item_code,
            status=form.cleaned_data["status"],
            notes=form.cleaned_data["notes"],
            evidence=form.evidence_links(),
            base_version=form.cleaned_data["base_version"],
        )
    except AuditLocked as error:
        messages.error(request, str(error))
        return redirect("audits:audit-detail", audit_id=audit.pk)
    except AnswerConflict as conflict:
        # Keep the typed text in the form; show theirs next to it, with their version as the new base.
        override = {**typed, "conflict": conflict.current, "base_version": conflict.current.version}
        return _questionnaire(request, audit, {item_code: override}, status=409)
    except ValidationError as error:
        return _questionnaire(request, audit, {item_code: {**typed, "errors": error.messages}}, status=400)
    messages.success(request, _("Answer saved."))
    return redirect(reverse("audits:audit-detail", kwargs={"audit_id": audit.pk}) + f"#item-{item_code}")


@require_POST
def answer_save(request: HttpRequest, audit_id: int, item_code: str) -> HttpResponse:
    audit = selectors.audit_for_user(user=request.user, audit_id=audit_id)
    if request.content_type == "application/json":
        return _json_answer_save(request, audit, item_code)
    return _form_answer_save(request, audit, item_code)


def _result_url(audit: Audit) -> str:
    try:
        return reverse("dashboards:audit-result", kwargs={"audit_id": audit.pk})
    except NoReverseMatch:
        return reverse("audits:audit-detail", kwargs={"audit_id": audit.pk})


@require_http_methods(["GET", "POST"])
def audit_submit(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = selectors.audit_for_user(user=request.user, audit_id=audit_id)
    if not selectors.has_role(user=request.user, team=audit.project.team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only team managers can submit audits."))
    if audit.is_submitted:
        messages.info(request, _("This audit is already submitted."))
        return redirect("audits:audit-detail", audit_id=audit.pk)
    if request.method == "POST":
        try:
            services.audit_submit(actor=request.user, audit=audit)
        except AuditLocked as error:
            messages.error(request, str(error))
            return redirect("audits:audit-detail", audit_id=audit.pk)
        messages.success(request, _("Audit submitted. Its answers and scores are now frozen."))
        return redirect(_result_url(audit))
    result = selectors.audit_score(audit=audit)
    return render(
        request,
        "audits/audit_submit.html",
        {
            "audit": audit,
            "project": audit.project,
            "score": score_payload(result, band_labels_localized()),
            "unanswered": result.total - result.answered,
        },
    )


def audit_history(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = selectors.audit_for_user(user=request.user, audit_id=audit_id)
    return render(
        request,
        "audits/audit_history.html",
        {"audit": audit, "project": audit.project, "changes": selectors.audit_changes(audit=audit)},
    )
