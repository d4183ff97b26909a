"""Asking for an exemption: the checks and field values of an answer saved as not applicable.

Called by audits.services' answer saves (the questionnaire's autosave, its form, the API's PATCH and bulk
upsert), so every path refuses the same input with the same field named. Imports nothing from
audits.services, which imports this module.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from audits.models import Answer, Audit
from audits.models.exemptions import ExemptionState, default_expiry, validate_expiry, validate_justification
from audits.types import User
from rubric.models import AnswerStatus, Item

NOT_APPLICABLE = AnswerStatus.NOT_APPLICABLE.value


def parse_expiry(value: Any) -> date | None:
    """A date, an ISO date text (YYYY-MM-DD) or nothing; anything else is refused naming expires_on."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError({"expires_on": [_("Enter the expiry as a date, YYYY-MM-DD.")]})


def clean_request(
    *, status: str, notes: str, expires_on: Any, item_code: str, allowed: frozenset[str], today: date
) -> date | None:
    """The expiry a save asks for (None: keep the current one, or the default for a new request).

    Refuses an item whose rubric item does not allow not applicable (naming status), a justification
    shorter than the limit (notes) and an expiry in the past or beyond the limit (expires_on).
    """
    if status != NOT_APPLICABLE:
        return None
    if item_code not in allowed:
        raise ValidationError({"status": [_("This item cannot be answered not applicable in this rubric.")]})
    expiry = parse_expiry(expires_on)
    errors: dict[str, list[str]] = {}
    try:
        validate_justification(notes)
    except ValidationError as error:
        errors.update(error.message_dict)
    if expiry is not None:
        try:
            validate_expiry(expiry, today)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return expiry


def exemption_fields(
    *, answer: Answer | None, status: str, notes: str, expires_on: date | None, actor: User, today: date
) -> dict[str, Any]:
    """The exemption fields the save writes; {} when it leaves them as they are.

    Another status clears them. Not applicable is a new request (pending, the decision cleared) when the
    answer was something else, or its justification or expiry changes; saving it unchanged (e.g. confirming
    a carried-over answer) keeps its state, so an expired one stays expired and does not count.
    """
    if status != NOT_APPLICABLE:
        if answer is None or (answer.exemption_state == "" and answer.expires_on is None):
            return {}
        return {
            "expires_on": None,
            "exemption_state": ExemptionState.NONE,
            "exemption_requested_by": None,
            "decision_by": None,
            "decision_at": None,
            "decision_comment": "",
        }
    new_request = (
        answer is None
        or answer.status != NOT_APPLICABLE
        or answer.notes != notes
        or (expires_on is not None and expires_on != answer.expires_on)
    )
    if not new_request:
        return {}
    return {
        "expires_on": expires_on or default_expiry(today),
        "exemption_state": ExemptionState.PENDING,
        "exemption_requested_by": actor if actor.pk else None,
        "decision_by": None,
        "decision_at": None,
        "decision_comment": "",
    }


def carried_answer(target: Audit, item: Item, old: Answer) -> Answer:
    """A copy of `old` for a new audit, marked for confirmation like every carried-over answer.

    An exemption keeps its decision and its expiry: it counts in the new audit while it has not expired (an
    expired one is carried but counts as not done until it is asked for again with a new expiry). Onto a
    rubric version whose item no longer allows not applicable it is carried as not done."""
    copy = Answer(
        audit=target,
        item=item,
        status=old.status,
        notes=old.notes,
        evidence=old.evidence,
        carried_over=True,
        answered_by=old.answered_by,
        answered_at=old.answered_at,
    )
    if old.status == NOT_APPLICABLE and not item.allows_not_applicable:
        copy.status = AnswerStatus.NOT_DONE
    elif old.status == NOT_APPLICABLE:
        copy.expires_on, copy.exemption_state = old.expires_on, old.exemption_state
        copy.exemption_requested_by_id = old.exemption_requested_by_id
        copy.decision_by_id, copy.decision_at = old.decision_by_id, old.decision_at
        copy.decision_comment = old.decision_comment
    return copy
