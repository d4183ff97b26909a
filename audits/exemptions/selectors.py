"""Reads of exemptions: those standing on projects (their latest submitted audit) and an audit's requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import F, QuerySet

from audits.exemptions.rules import exemption_state
from audits.models import Answer, Audit, Project
from audits.models.exemptions import EXPIRED, EXPIRING_SOON_DAYS, ExemptionState
from rubric.models import AnswerStatus


def standing_exemptions() -> QuerySet[Answer]:
    """Approved exemptions of each project's latest submitted audit: the ones its score stands on (a draft's
    are not decided for good, and older audits' have been superseded)."""
    return Answer.objects.filter(
        status=AnswerStatus.NOT_APPLICABLE,
        exemption_state=ExemptionState.APPROVED,
        expires_on__isnull=False,
        audit_id=F("audit__project__last_audit_id"),
    )


def exemptions_expiring(*, within_days: int, today: date) -> QuerySet[Answer]:
    """Standing exemptions that expire from today to `within_days` days from now, soonest first, with their
    item, audit and project (the notifications name them)."""
    return (
        standing_exemptions()
        .filter(expires_on__gte=today, expires_on__lte=today + timedelta(days=within_days))
        .select_related("item", "audit__project__team")
        .order_by("expires_on", "pk")
    )


@dataclass(frozen=True)
class ExemptionFlag:
    code: str
    title: str
    expires_on: date
    expired: bool
    days_left: int  # negative once expired


def project_exemption_flags(*, project: Project, today: date) -> list[ExemptionFlag]:
    """The project's standing exemptions that have expired or expire within EXPIRING_SOON_DAYS (one query)."""
    if project.last_audit_id is None:
        return []
    answers = (
        Answer.objects.filter(
            audit_id=project.last_audit_id,
            status=AnswerStatus.NOT_APPLICABLE,
            exemption_state=ExemptionState.APPROVED,
            expires_on__lte=today + timedelta(days=EXPIRING_SOON_DAYS),
        )
        .select_related("item")
        .order_by("expires_on", "pk")
    )
    flags = []
    for answer in answers:
        assert answer.expires_on is not None  # the filter above
        flags.append(
            ExemptionFlag(
                code=answer.item.code,
                title=str(answer.item.localized("title")),
                expires_on=answer.expires_on,
                expired=answer.expires_on < today,
                days_left=(answer.expires_on - today).days,
            )
        )
    return flags


@dataclass(frozen=True)
class ExemptionRow:
    """One not-applicable answer of an audit with the state people see."""

    answer: Answer
    code: str
    state: str  # pending, approved, rejected or expired

    @property
    def pending(self) -> bool:
        return self.state == ExemptionState.PENDING

    @property
    def expired(self) -> bool:
        return self.state == EXPIRED


def audit_exemptions(*, audit: Audit, today: date) -> list[ExemptionRow]:
    """Every not-applicable answer of the audit, in rubric order (one query)."""
    answers = (
        audit.answers.filter(status=AnswerStatus.NOT_APPLICABLE)
        .select_related("item", "exemption_requested_by", "decision_by")
        .order_by("item__section__order", "item__order")
    )
    return [
        ExemptionRow(
            answer=answer,
            code=answer.item.code,
            state=exemption_state(answer.status, answer.exemption_state, answer.expires_on, today),
        )
        for answer in answers
    ]
