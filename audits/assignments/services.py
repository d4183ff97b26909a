"""Writes of item owners. Editors and managers assign items of a draft to an editor or manager of the team;
the owner hears about it through the notification channels (event ``item_assigned``)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from audits.models import ASSIGNABLE_ROLES, Audit, AuditStatus, ItemAssignment, Membership, Role
from audits.notifications import notify
from audits.selectors import has_audit_role
from audits.services import AuditLocked
from audits.types import Actor, User
from rubric.selectors import item_ids


def _locked() -> AuditLocked:
    return AuditLocked(_("This audit is submitted; its items can no longer be assigned."))


def _check(actor: Actor, audit: Audit, item_code: str) -> int:
    """The item's id once the actor may assign in this draft; raises otherwise."""
    if not has_audit_role(user=actor, audit=audit, at_least=Role.EDITOR):
        raise PermissionDenied(_("Your role in this team does not allow this."))
    if audit.status != AuditStatus.DRAFT:
        raise _locked()
    ids = item_ids(audit.rubric)
    if item_code not in ids:
        raise ValidationError({"item": [_("Unknown item “%(code)s” for this rubric.") % {"code": item_code}]})
    return ids[item_code]


def assignee_for(*, audit: Audit, username: str) -> User:
    """The team member named `username` who may own items (an editor or a manager of the audit's team)."""
    member = (
        get_user_model()
        .objects.filter(
            username=username,
            is_active=True,
            memberships__team_id=audit.project.team_id,
            memberships__role__in=ASSIGNABLE_ROLES,
        )
        .first()
    )
    if member is None:
        raise ValidationError(
            {"assignee": [_("“%(name)s” is not an editor or manager of this team.") % {"name": username}]}
        )
    return member


def item_assign(*, actor: User, audit: Audit, item_code: str, assignee: User) -> ItemAssignment:
    """Make `assignee` the owner of one item of a draft (replacing any owner) and tell them, once per
    audit, item and person."""
    item_id = _check(actor, audit, item_code)
    allowed = Membership.objects.filter(team_id=audit.project.team_id, user=assignee, role__in=ASSIGNABLE_ROLES)
    if not getattr(assignee, "is_active", False) or not allowed.exists():
        raise ValidationError({"assignee": [_("The owner must be an editor or manager of this team.")]})
    with transaction.atomic():
        # Lock the draft: an assignment and a submit of the same audit take turns, so none lands on a
        # submitted audit.
        if not Audit.objects.select_for_update().filter(pk=audit.pk, status=AuditStatus.DRAFT).exists():
            raise _locked()
        assignment, _created = ItemAssignment.objects.update_or_create(
            audit=audit, item_id=item_id, defaults={"assignee": assignee, "assigned_by": actor}
        )
        notify(
            event="item_assigned",
            project=audit.project,
            key=f"assign:{audit.pk}:{item_code}:{assignee.pk}",
            context={
                "item": item_code,
                "assigned_by": actor.get_username(),
                "title": _("%(item)s of %(project)s is yours") % {"item": item_code, "project": audit.project.name},
                "lines": [
                    _("%(who)s made you the owner of %(item)s in audit #%(audit)s.")
                    % {"who": actor.get_username(), "item": item_code, "audit": audit.pk}
                ],
                "url": reverse("audits:audit-detail", kwargs={"audit_id": audit.pk}) + f"#item-{item_code}",
            },
            recipients=[assignee],
            audit=audit,
        )
    return assignment


def item_unassign(*, actor: User, audit: Audit, item_code: str) -> bool:
    """Remove the owner of one item of a draft; False when it had none."""
    item_id = _check(actor, audit, item_code)
    with transaction.atomic():
        if not Audit.objects.select_for_update().filter(pk=audit.pk, status=AuditStatus.DRAFT).exists():
            raise _locked()
        deleted, _rows = ItemAssignment.objects.filter(audit=audit, item_id=item_id).delete()
    return deleted > 0
