"""Deciding exemptions. Requests are answer saves (audits.services → audits.exemptions.requests)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.exemptions.rules import exemption_state
from audits.models import Answer, AnswerChange, Audit, AuditStatus, Membership, Role
from audits.models.exemptions import (
    EXEMPTION_STATE_LABELS,
    MAX_DECISION_COMMENT_LENGTH,
    Decision,
    ExemptionState,
)
from audits.selectors import has_audit_role
from audits.types import Actor, User
from config.validators import reject_nul
from rubric.models import AnswerStatus


class ExemptionConflict(Exception):
    """The decision cannot be taken in the answer's or the audit's current state (HTTP 409 `conflict`)."""


def _sole_manager(audit: Audit, user: Actor) -> bool:
    """Whether `user` is the only manager of the audit's team (staff who are not members never are)."""
    managers = list(
        Membership.objects.filter(team_id=audit.project.team_id, role=Role.MANAGER).values_list("user_id", flat=True)
    )
    return managers == [user.pk]


def exemption_decide(*, actor: User, audit: Audit, item_code: str, decision: str, comment: str = "") -> Answer:
    """Approve or reject the pending exemption of one item; written to the answer's history.

    Managers of the team only. A manager may decide their own request only when they are the team's only
    manager (someone else must look at it whenever someone else can).
    """
    if not has_audit_role(user=actor, audit=audit, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only managers of the team can decide exemptions."))
    if decision not in Decision.values:
        raise ValidationError({"decision": [_("Decide “approve” or “reject”.")]})
    comment = (comment or "").strip()
    reject_nul(comment, "comment")
    if len(comment) > MAX_DECISION_COMMENT_LENGTH:
        raise ValidationError({"comment": [_("At most %(n)s characters.") % {"n": MAX_DECISION_COMMENT_LENGTH}]})
    with transaction.atomic():
        locked = Audit.objects.select_for_update().filter(pk=audit.pk).order_by().first()
        if locked is None or locked.status != AuditStatus.DRAFT:
            raise ExemptionConflict(_("This audit is submitted; its exemptions can no longer be decided."))
        answer = (
            Answer.objects.select_for_update(of=("self",)).filter(audit=audit, item__code=item_code).order_by().first()
        )
        if answer is None or answer.status != AnswerStatus.NOT_APPLICABLE:
            raise ValidationError({"item": [_("This item has no exemption request.")]})
        state = exemption_state(answer.status, answer.exemption_state, answer.expires_on, timezone.localdate())
        if state != ExemptionState.PENDING:
            label = EXEMPTION_STATE_LABELS.get(state, state)
            raise ExemptionConflict(
                _("This exemption is not waiting for a decision (its state: %(state)s).") % {"state": label}
            )
        if answer.exemption_requested_by_id == actor.pk and not _sole_manager(audit, actor):
            raise PermissionDenied(
                _("Another manager of the team must decide your own request; only a team's only manager may.")
            )
        after = ExemptionState.APPROVED if decision == Decision.APPROVE else ExemptionState.REJECTED
        now = timezone.now()
        AnswerChange.record(answer=answer, changed_by=actor, exemption=after, comment=comment)
        answer.exemption_state, answer.decision_by, answer.decision_at = after, actor, now
        answer.decision_comment = comment
        answer.version += 1
        answer.save(update_fields=["exemption_state", "decision_by", "decision_at", "decision_comment", "version"])
        Audit.objects.filter(pk=audit.pk).update(updated_at=now)
    return answer
