"""Reads of item owners: one query per audit, as plain values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from audits.models import ASSIGNABLE_ROLES, Audit, ItemAssignment, Membership


@dataclass(frozen=True, slots=True)
class Owner:
    item: str
    user_id: int
    username: str


def item_owners(*, audit: Audit) -> dict[str, Owner]:
    """Item code -> its owner in this audit (one query)."""
    rows = (
        ItemAssignment.objects.filter(audit=audit)
        .order_by()
        .values_list("item__code", "assignee_id", "assignee__username")
    )
    return {code: Owner(code, user_id, username) for code, user_id, username in rows}


def assignable_members(*, audit: Audit) -> list[tuple[int, str]]:
    """(user id, username) of the team's editors and managers, who may own items, by username (one query)."""
    rows = (
        Membership.objects.filter(team_id=audit.project.team_id, role__in=ASSIGNABLE_ROLES, user__is_active=True)
        .order_by("user__username")
        .values_list("user_id", "user__username")
    )
    return list(rows)


def items_owned_by(*, owners: Iterable[Owner], user: Any) -> set[str]:
    return {owner.item for owner in owners if owner.user_id == getattr(user, "pk", None)}
