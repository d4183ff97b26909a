"""Carrying owners into a new audit, beside its answers (audits.services.audit_start calls this; it imports
no service, so audits.services can import it)."""

from __future__ import annotations

from audits.models import ASSIGNABLE_ROLES, Audit, ItemAssignment, Membership
from rubric.selectors import item_ids


def carry_over_assignments(source: Audit, target: Audit) -> None:
    """Copy the owners of `source` onto the new draft `target`, item by item code (like its answers), for
    owners who may still own items in the team. Nobody is notified again: they already own these items."""
    target_items = item_ids(target.rubric)
    owners = Membership.objects.filter(team_id=target.project.team_id, role__in=ASSIGNABLE_ROLES)
    rows = source.assignments.filter(assignee__in=owners.values("user"), assignee__is_active=True).values_list(
        "item__code", "assignee_id", "assigned_by_id"
    )
    ItemAssignment.objects.bulk_create(
        ItemAssignment(audit=target, item_id=target_items[code], assignee_id=owner, assigned_by_id=by)
        for code, owner, by in rows
        if code in target_items
    )
