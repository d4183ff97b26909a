"""Saving one answer of the questionnaire: as JSON from the page's script, or as a plain form post.

The JSON answer carries the new score, computed from the statuses the save service read while it held
the audit's rows, so a save reads nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audits import selectors, services
from audits.api.exceptions import too_large_message
from audits.api.parsers import load_json
from audits.exemptions.rules import exemption_state
from audits.forms import STATUS_LABELS, AnswerForm
from audits.models import EXEMPTION_STATE_LABELS, Answer, Audit
from audits.planning.panel import panel_html
from audits.services import AnswerConflict, AuditLocked
from audits.types import actor_of
from audits.views.questionnaire import questionnaire_page, rubric_band_titles, score_payload
from rubric.scoring import score_answers
from rubric.selectors import rubric_spec


def answer_payload(answer: Answer, item_code: str) -> dict[str, Any]:
    who = answer.answered_by.get_username() if answer.answered_by else ""
    state = exemption_state(answer.status, answer.exemption_state, answer.expires_on, timezone.localdate())
    return {
        "item": item_code,
        "status": answer.status,
        "status_label": str(STATUS_LABELS.get(answer.status, answer.status)),  # type: ignore[call-overload]
        "notes": answer.notes,
        "evidence": answer.evidence,
        "version": answer.version,
        "carried_over": answer.carried_over,
        "answered_by": who,
        "answered_at": date_format(localtime(answer.answered_at), "DATETIME_FORMAT") if answer.answered_at else "",
        "expires_on": answer.expires_on.isoformat() if answer.expires_on else "",
        "exemption_state": state,
        "exemption_state_label": str(EXEMPTION_STATE_LABELS.get(state, "")) if state else "",
    }


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
        saved = services.answer_save_detailed(
            actor=actor_of(request),
            audit=audit,
            item_code=item_code,
            status=body.get("status"),  # type: ignore[arg-type]
            notes=notes,
            evidence=body.get("evidence") or [],
            base_version=base_version,
            expires_on=body.get("expires_on"),
        )
    except PermissionDenied as error:
        return JsonResponse({"errors": [str(error) or _("You may not change this audit.")]}, status=403)
    except AuditLocked as error:
        return JsonResponse({"locked": True, "errors": [str(error)]}, status=409)
    except AnswerConflict as conflict:
        return JsonResponse(
            {
                "conflict": answer_payload(conflict.current, item_code),
                "errors": [_("Someone else changed this answer while you were editing it.")],
            },
            status=409,
        )
    except ValidationError as error:
        fields = error.message_dict if hasattr(error, "error_dict") else {}
        return JsonResponse({"errors": error.messages, "fields": fields}, status=400)
    result = score_answers(rubric_spec(audit.rubric), saved.statuses)
    return JsonResponse(
        {
            "answer": answer_payload(saved.answer, item_code),
            "score": {
                **score_payload(result, rubric_band_titles(audit)),
                "next_steps": panel_html(request, audit, saved.statuses),
            },
            # The page reloads the item's history when it is open (or next time it is opened).
            "history_changed": saved.changed,
        }
    )


def _form_answer_save(request: HttpRequest, audit: Audit, item_code: str) -> HttpResponse:
    form = AnswerForm(request.POST)
    typed = {
        "status": request.POST.get("status", ""),
        "notes": request.POST.get("notes", ""),
        "evidence_text": request.POST.get("evidence", ""),
        "expires_on": request.POST.get("expires_on", ""),
    }
    if not form.is_valid():
        errors = [str(message) for messages_ in form.errors.values() for message in messages_]
        return questionnaire_page(request, audit, {item_code: {**typed, "errors": errors}}, status=400)
    try:
        services.answer_save(
            actor=actor_of(request),
            audit=audit,
            item_code=item_code,
            status=form.cleaned_data["status"],
            notes=form.cleaned_data["notes"],
            evidence=form.evidence_links(),
            base_version=form.cleaned_data["base_version"],
            expires_on=form.cleaned_data.get("expires_on"),
        )
    except AuditLocked as error:
        messages.error(request, str(error))
        return redirect("audits:audit-detail", audit_id=audit.pk)
    except AnswerConflict as conflict:
        # Keep the typed text in the form; show theirs next to it, with their version as the new base.
        override = {**typed, "conflict": conflict.current, "base_version": conflict.current.version}
        return questionnaire_page(request, audit, {item_code: override}, status=409)
    except ValidationError as error:
        return questionnaire_page(request, audit, {item_code: {**typed, "errors": error.messages}}, status=400)
    messages.success(request, _("Answer saved."))
    return redirect(reverse("audits:audit-detail", kwargs={"audit_id": audit.pk}) + f"#item-{item_code}")


@require_POST
def answer_save(request: HttpRequest, audit_id: int, item_code: str) -> HttpResponse:
    audit = selectors.audit_for_user(user=request.user, audit_id=audit_id)
    if request.content_type == "application/json":
        return _json_answer_save(request, audit, item_code)
    return _form_answer_save(request, audit, item_code)
