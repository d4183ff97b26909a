"""Signing in through the provider: the user behind (issuer, subject), and their team roles from groups.

Group roles are applied at every sign-in, so they follow the provider: a group added grants its role, a
group removed takes it away at the next sign-in. They live beside hand-granted roles on the membership
(`Membership.group_role` / `hand_role`, see audits/models/core.py) and never change them.

"A team keeps one manager" (audits/services.py) holds here too: when the provider stops granting the role
of a team's only manager, the role is kept unchanged and a warning is logged at each sign-in until another
manager is appointed; then the next sign-in removes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.models import GroupRoleMapping, Membership, OidcIdentity, Role, Team, effective_role
from audits.types import User
from config.oidc import GroupRoleRule

log = logging.getLogger(__name__)
USERNAME_MAX_LENGTH = 150  # django.contrib.auth's User.username


class SignInRefused(Exception):
    """The provider vouched for someone mlaudit will not sign in; str() is a sentence for them."""


@dataclass(frozen=True)
class Grant:
    team: Team
    role: str
    groups: tuple[str, ...]


def groups_from_claims(claims: dict[str, Any], groups_claim: str, *, subject: str) -> list[str] | None:
    """The group names in the claim, or None (with a warning) when it is missing or not a list of strings."""
    value = claims.get(groups_claim)
    if value is None:
        log.warning(
            "SSO sign-in of subject %s: the claim %r is missing, so no roles come from groups "
            "(is the provider configured to send it, and is its scope requested in MLAUDIT_OIDC_SCOPES?)",
            subject,
            groups_claim,
        )
        return None
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        log.warning(
            "SSO sign-in of subject %s: the claim %r is not a list of group names (%s), so no roles come from groups",
            subject,
            groups_claim,
            type(value).__name__,
        )
        return None
    return value


def grants_for(groups: Iterable[str], env_rules: Iterable[GroupRoleRule]) -> dict[int, Grant]:
    """The role each team gets from these groups (the highest when several groups map to one team), from the
    environment's rules and the admin's mappings. A team named by the environment that does not exist yet is
    created, so the environment alone can set up SSO teams."""
    names = set(groups)
    wanted: dict[int, tuple[Team, list[tuple[str, str]]]] = {}

    def add(team: Team, role: str, group: str) -> None:
        wanted.setdefault(team.pk, (team, []))[1].append((role, group))

    for rule in env_rules:
        if rule.group in names:
            team, created = Team.objects.get_or_create(
                slug=rule.team_slug, defaults={"name": rule.team_slug.replace("-", " ").capitalize()}
            )
            if created:
                log.info("SSO: created the team %r named in MLAUDIT_OIDC_GROUP_ROLES", rule.team_slug)
            add(team, rule.role, rule.group)
    for mapping in GroupRoleMapping.objects.filter(group__in=names).select_related("team"):
        add(mapping.team, mapping.role, mapping.group)
    grants = {}
    for team_id, (team, pairs) in wanted.items():
        role = effective_role(*(role for role, _group in pairs))
        grants[team_id] = Grant(team=team, role=role, groups=tuple(sorted({group for _role, group in pairs})))
    return grants


def sign_in_apply(
    *,
    issuer: str,
    subject: str,
    claims: dict[str, Any],
    username_claim: str,
    groups_claim: str,
    env_rules: Iterable[GroupRoleRule],
) -> User:
    """The user for this verified identity (created on first sign-in), with details and group roles updated.

    Two first sign-ins of one subject at once (two tabs) both find no identity; the second one's insert fails
    on the unique username or (issuer, subject) once the first commits, and its second attempt finds the user."""
    groups = groups_from_claims(claims, groups_claim, subject=subject)
    for attempt in range(2):
        try:
            return _sign_in(issuer, subject, claims, username_claim, groups, env_rules)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _sign_in(
    issuer: str,
    subject: str,
    claims: dict[str, Any],
    username_claim: str,
    groups: list[str] | None,
    env_rules: Iterable[GroupRoleRule],
) -> User:
    with transaction.atomic():
        identity = (
            OidcIdentity.objects.select_related("user")
            .select_for_update()
            .filter(issuer=issuer, subject=subject)
            .first()
        )
        if identity is None:
            user = _user_create(claims, username_claim=username_claim, subject=subject)
            identity = OidcIdentity.objects.create(user=user, issuer=issuer, subject=subject)
        user = identity.user
        if not user.is_active:
            # No roles change for a deactivated account; the callback refuses the sign-in.
            return user
        _details_update(user, claims)
        identity.last_sign_in_at = timezone.now()
        identity.last_groups = groups
        identity.save(update_fields=["last_sign_in_at", "last_groups"])
        group_roles_apply(user=user, grants=grants_for(groups or [], env_rules))
    return user


def _user_create(claims: dict[str, Any], *, username_claim: str, subject: str) -> User:
    username = claims.get(username_claim)
    if not isinstance(username, str) or not username.strip():
        raise SignInRefused(
            _("The provider did not send the claim “%(claim)s” that mlaudit takes usernames from.")
            % {"claim": username_claim}
        )
    username = username.strip()[:USERNAME_MAX_LENGTH]
    users = get_user_model().objects
    if users.filter(username__iexact=username).exists():
        # Never take over an existing account by its name: an administrator links it (an SSO identity in the admin).
        log.warning(
            "SSO sign-in of subject %s refused: the username %r is taken by an unlinked account", subject, username
        )
        raise SignInRefused(
            _(
                "The username “%(username)s” already belongs to an mlaudit account that is not linked to this "
                "identity provider. Ask an administrator to link it (Administration → SSO identities)."
            )
            % {"username": username}
        )
    user = users.create_user(username=username, email=_claim_str(claims, "email"))
    user.set_unusable_password()
    user.save(update_fields=["password"])
    log.info("SSO: created the user %r for subject %s", username, subject)
    return user


def _claim_str(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def _details_update(user: User, claims: dict[str, Any]) -> None:
    first, last = _claim_str(claims, "given_name"), _claim_str(claims, "family_name")
    if not (first or last):
        first, _space, last = _claim_str(claims, "name").partition(" ")
    fields = {"email": _claim_str(claims, "email"), "first_name": first[:150], "last_name": last[:150]}
    changed = [name for name, value in fields.items() if value and getattr(user, name) != value]
    for name in changed:
        setattr(user, name, fields[name])
    if changed:
        user.save(update_fields=changed)


def group_roles_apply(*, user: User, grants: dict[int, Grant]) -> None:
    """Make the user's roles from groups equal `grants`, leaving hand-granted roles as they are."""
    current = {m.team_id: m for m in Membership.objects.filter(user=user).select_related("team")}
    touched = sorted(set(grants) | {team_id for team_id, m in current.items() if m.group_role})
    # The same order as audits.services._lock_team, one team at a time, so concurrent sign-ins cannot deadlock.
    list(Team.objects.select_for_update().filter(pk__in=touched).order_by("pk").values_list("pk", flat=True))
    for team_id in touched:
        grant, membership = grants.get(team_id), current.get(team_id)
        if grant is None:
            assert membership is not None
            _group_role_drop(membership)
        elif membership is None:
            Membership.objects.create(
                team=grant.team, user=user, role=grant.role, group_role=grant.role, group_names=list(grant.groups)
            )
        else:
            _group_role_set(membership, grant)


def _group_role_set(membership: Membership, grant: Grant) -> None:
    hand = membership.hand_granted_role
    in_force = effective_role(hand, grant.role)
    if membership.role == Role.MANAGER and in_force != Role.MANAGER and _only_manager(membership):
        _keep_last_manager(membership, reason=f"the groups now grant only {grant.role}")
        return
    membership.hand_role, membership.group_role, membership.role = hand, grant.role, in_force
    membership.group_names = list(grant.groups)
    membership.save(update_fields=["hand_role", "group_role", "role", "group_names"])


def _group_role_drop(membership: Membership) -> None:
    hand = membership.hand_role
    if membership.role == Role.MANAGER and hand != Role.MANAGER and _only_manager(membership):
        _keep_last_manager(membership, reason="no group grants a role in it any more")
        return
    if not hand:
        membership.delete()
        return
    membership.role, membership.group_role, membership.hand_role, membership.group_names = hand, "", "", []
    membership.save(update_fields=["role", "group_role", "hand_role", "group_names"])


def _only_manager(membership: Membership) -> bool:
    return (
        not Membership.objects.filter(team_id=membership.team_id, role=Role.MANAGER).exclude(pk=membership.pk).exists()
    )


def _keep_last_manager(membership: Membership, *, reason: str) -> None:
    log.warning(
        "SSO: %s stays manager of the team %r although %s, because a team keeps at least one manager; "
        "appoint another manager and the role goes at their next sign-in",
        membership.user.get_username(),
        membership.team.slug,
        reason,
    )
