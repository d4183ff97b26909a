"""Exemptions in the browser: the questionnaire's exemption slots and the managers' decision form.

The questionnaire renders each item from a template filled with escaped values (audits/views/item_markup.py);
ExemptionMarkup fills the item's exemption slots from the fragments in templates/audits/_item_parts.html.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audits import selectors
from audits.exemptions.rules import exemption_state
from audits.exemptions.services import ExemptionConflict, _sole_manager, exemption_decide
from audits.models import Audit
from audits.models.exemptions import (
    DEFAULT_EXPIRY_DAYS,
    EXEMPTION_STATE_LABELS,
    JUSTIFICATION_MIN_LENGTH,
    MAX_EXPIRY_DAYS,
    ExemptionState,
    latest_expiry,
)
from audits.types import Actor, actor_of
from audits.views.item_markup import Filler, text
from rubric.models import AnswerStatus

EMPTY_EXEMPTION_SLOTS = {"exemption_fields": "", "exemption_state": "", "exemption_decision": ""}


def exemption_help() -> str:
    return _(
        "Not applicable needs a justification in the notes (at least %(min)s characters) and counts only once a "
        "manager of the team approves it. It expires after %(default)s days unless you choose a date (at most "
        "%(max)s days ahead)."
    ) % {"min": JUSTIFICATION_MIN_LENGTH, "default": DEFAULT_EXPIRY_DAYS, "max": MAX_EXPIRY_DAYS}


class ExemptionMarkup:
    """The exemption slots of each questionnaire item, from fragments rendered once per page."""

    def __init__(
        self,
        request: HttpRequest,
        audit: Audit,
        parts: dict[str, Filler],
        *,
        user: Actor,
        is_manager: bool,
        today: date,
    ) -> None:
        self.audit, self.parts, self.user, self.today = audit, parts, user, today
        self.can_decide = is_manager and not audit.is_submitted
        self.help = text(exemption_help())
        self.min, self.max = today.isoformat(), latest_expiry(today).isoformat()
        self.decide_url = reverse("audits:exemption-decide", kwargs={"audit_id": audit.pk, "item_code": "item-code"})
        self._sole_manager: bool | None = None

    def sole_manager(self) -> bool:
        if self._sole_manager is None:  # asked at most once a page, and only when a request is the manager's own
            self._sole_manager = _sole_manager(self.audit, self.user)
        return self._sole_manager

    def slots(self, row: Any) -> dict[str, str]:
        answer, code = row.answer, text(row.code)
        if not row.item.allows_not_applicable and not (answer and answer.status == AnswerStatus.NOT_APPLICABLE):
            return EMPTY_EXEMPTION_SLOTS
        saved = answer is not None and answer.status == AnswerStatus.NOT_APPLICABLE
        typed = getattr(row, "expires_on", None)
        expires = typed if typed is not None else (answer.expires_on.isoformat() if saved and answer.expires_on else "")
        state = exemption_state(answer.status, answer.exemption_state, answer.expires_on, self.today) if saved else ""
        values = {
            "exemption_fields": self.parts["exemption_fields"].fill(
                {"code": code, "expires_on": text(expires), "min": self.min, "max": self.max, "help": self.help}
            )
            if row.item.allows_not_applicable
            else "",
            "exemption_state": self.parts["exemption_state"].fill(
                {"state": text(state), "label": text(self._state_label(state, answer))}
            )
            if state
            else "",
            "exemption_decision": "",
        }
        if state == ExemptionState.PENDING and self.can_decide:
            own = answer.exemption_requested_by_id == getattr(self.user, "pk", None)
            if own and not self.sole_manager():
                values["exemption_decision"] = self.parts["exemption_note"].fill(
                    {"text": text(_("Another manager of the team decides your own request."))}
                )
            else:
                values["exemption_decision"] = self.parts["exemption_decide"].fill(
                    {"code": code, "url": text(self.decide_url.replace("item-code", row.code))}
                )
        elif state in (ExemptionState.APPROVED, ExemptionState.REJECTED) and answer.decision_comment:
            values["exemption_decision"] = self.parts["exemption_note"].fill(
                {"text": text(_("Decision: %(comment)s") % {"comment": answer.decision_comment})}
            )
        return values

    def _state_label(self, state: str, answer: Any) -> str:
        label = str(EXEMPTION_STATE_LABELS.get(state, state))
        if answer.expires_on is None:
            return label
        when = date_format(answer.expires_on, "DATE_FORMAT")
        if state == "expired":
            return _("Exemption expired on %(date)s") % {"date": when}
        return _("Exemption %(state)s, until %(date)s") % {"state": label.lower(), "date": when}


@require_POST
def exemption_decision(request: HttpRequest, audit_id: int, item_code: str) -> HttpResponse:
    """A manager approves or rejects an item's pending exemption from the questionnaire (a plain form post)."""
    audit = selectors.audit_for_user(user=request.user, audit_id=audit_id)
    try:
        exemption_decide(
            actor=actor_of(request),
            audit=audit,
            item_code=item_code,
            decision=request.POST.get("decision", ""),
            comment=request.POST.get("comment", ""),
        )
    except (PermissionDenied, ExemptionConflict) as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if request.POST.get("decision") == "approve":
            messages.success(request, _("Exemption approved."))
        else:
            messages.success(request, _("Exemption rejected."))
    return redirect(reverse("audits:audit-detail", kwargs={"audit_id": audit.pk}) + f"#item-{item_code}")
