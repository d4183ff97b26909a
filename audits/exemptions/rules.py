"""Which exemptions count, as pure functions of plain values (no queries, no clock).

Every score is computed from *counted* statuses: an answer `not_applicable` counts (as
rubric.scoring.NOT_APPLICABLE, worth the rubric's exemption points) only when a manager approved it and it
has not expired on the day the score is about; otherwise it counts as not done.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from audits.models.exemptions import EXPIRED, ExemptionState
from rubric.models import AnswerStatus

NOT_APPLICABLE = AnswerStatus.NOT_APPLICABLE.value


def exemption_state(status: str, state: str, expires_on: date | None, today: date) -> str:
    """The state people see: "" (no exemption), pending, approved, rejected or expired."""
    if status != NOT_APPLICABLE:
        return ""
    if state in (ExemptionState.PENDING, ExemptionState.APPROVED) and expires_on is not None and expires_on < today:
        return EXPIRED
    return state


def counted_status(status: str, state: str, expires_on: date | None, today: date) -> str:
    """The status a score counts: an exemption only when approved and not expired, else not done."""
    if status != NOT_APPLICABLE:
        return status
    if exemption_state(status, state, expires_on, today) == ExemptionState.APPROVED:
        return NOT_APPLICABLE
    return AnswerStatus.NOT_DONE.value


def score_day(*, submitted_at: datetime | None) -> date:
    """The day a score is about: a submitted audit's day of submission (its score never changes), else today."""
    return timezone.localdate(submitted_at) if submitted_at is not None else timezone.localdate()


def audit_score_day(audit: Any) -> date:
    return score_day(submitted_at=audit.submitted_at if audit.is_submitted else None)


def counted_statuses(answers: Iterable[Any], today: date) -> dict[str, str]:
    """{item code: counted status} of Answer instances (with their item loaded)."""
    return {
        answer.item.code: counted_status(answer.status, answer.exemption_state, answer.expires_on, today)
        for answer in answers
    }


def pending_count(answers: Iterable[Any], today: date) -> int:
    return sum(
        1
        for answer in answers
        if exemption_state(answer.status, answer.exemption_state, answer.expires_on, today) == ExemptionState.PENDING
    )
