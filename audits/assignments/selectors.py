"""Reads of item owners: one query per audit, as plain values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import FilteredRelation, Q

from audits.models import ASSIGNABLE_ROLES, Audit, ItemAssignment, Membership
from audits.types import Actor


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


def items_owned_by(*, owners: Iterable[Owner], user: Actor) -> set[str]:
    return {owner.item for owner in owners if owner.user_id == getattr(user, "pk", None)}


@dataclass(frozen=True)
class QuestionnaireOwners:
    owners: dict[int, Owner]  # by item id
    members: list[tuple[int, str]]  # who may own items: (user id, username), by username


def questionnaire_owners(*, audit: Audit) -> QuestionnaireOwners:
    """The audit's owners by item id and the team's members who may own items, in one query (the
    questionnaire reads a fixed handful of rows): users who are either, with the items they own here."""
    user_model = get_user_model()
    rows = (
        user_model.objects.annotate(
            owned=FilteredRelation("item_assignments", condition=Q(item_assignments__audit_id=audit.pk)),
            member=FilteredRelation(
                "memberships",
                condition=Q(
                    memberships__team_id=audit.project.team_id,
                    memberships__role__in=ASSIGNABLE_ROLES,
                ),
            ),
        )
        .filter(Q(owned__isnull=False) | Q(member__isnull=False, is_active=True))
        .order_by(user_model.USERNAME_FIELD)
        .values_list("pk", user_model.USERNAME_FIELD, "member__pk", "owned__item_id", "owned__item__code")
    )
    owners: dict[int, Owner] = {}
    members: dict[int, str] = {}
    for user_id, username, membership, item_id, code in rows:
        if membership is not None:
            members[user_id] = username
        if item_id is not None:
            owners[item_id] = Owner(code, user_id, username)
    return QuestionnaireOwners(owners=owners, members=list(members.items()))
