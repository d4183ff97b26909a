"""Single sign-on through OpenID Connect: the environment variables, read once into one typed object.

config/settings.py calls `oidc_from_env()`; the result is `settings.MLAUDIT_OIDC` (None when SSO is off).
Everything that signs people in reads that object at call time (audits/sso/), so tests can swap it. This module
imports nothing from the apps: it only parses. README "Single sign-on" documents every variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# The roles a group may grant (audits.models.Role's values; repeated here because settings cannot import models).
GROUP_ROLE_NAMES = ("viewer", "editor", "manager")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class GroupRoleRule:
    """Members of `group` in the provider get `role` in the team `team_slug`."""

    group: str
    team_slug: str
    role: str


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    discovery_url: str
    provider_name: str = "SSO"
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    groups_claim: str = "groups"
    username_claim: str = "preferred_username"
    sign_algo: str = "RS256"
    timeout: float = 10.0
    rp_logout: bool = True
    group_roles: tuple[GroupRoleRule, ...] = field(default_factory=tuple)


def parse_group_roles(text: str) -> tuple[GroupRoleRule, ...]:
    """`group=team-slug:role` entries separated by `;` or new lines, e.g.
    `ml-platform-managers=ml-platform:manager; ml-platform=ml-platform:viewer`. Raises ValueError with a sentence."""
    rules: list[GroupRoleRule] = []
    for raw in re.split(r"[;\n]", text):
        entry = raw.strip()
        if not entry:
            continue
        group, equals, target = entry.rpartition("=")
        team_slug, colon, role = target.rpartition(":")
        group, team_slug, role = group.strip(), team_slug.strip(), role.strip().lower()
        if not equals or not colon or not group:
            raise ValueError(f"“{entry}” is not of the form group=team-slug:role.")
        if not _SLUG.match(team_slug):
            raise ValueError(f"“{entry}”: the team slug “{team_slug}” may contain only letters, digits, - and _.")
        if role not in GROUP_ROLE_NAMES:
            raise ValueError(f"“{entry}”: the role must be one of {', '.join(GROUP_ROLE_NAMES)}, not “{role}”.")
        rules.append(GroupRoleRule(group=group, team_slug=team_slug, role=role))
    return tuple(rules)


def issuer_problem(issuer: str, *, debug: bool) -> str | None:
    """Why this issuer URL cannot be right, or None. Plain http is allowed only on loopback or with DEBUG on."""
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"MLAUDIT_OIDC_ISSUER “{issuer}” is not an http(s) URL such as https://id.example.com/realms/acme."
    if parts.query or parts.fragment:
        return f"MLAUDIT_OIDC_ISSUER “{issuer}” must not have a query or a fragment."
    if parts.scheme == "http" and not debug and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return f"MLAUDIT_OIDC_ISSUER “{issuer}” uses plain http: an identity provider must be reached over https."
    return None


def oidc_from_env(
    read: Callable[..., str | None], *, read_bool: Callable[..., bool], read_float: Callable[..., float]
) -> OidcConfig | None:
    """Build the configuration from MLAUDIT_OIDC_* variables (`read` also accepts NAME_FILE secrets).
    Missing pieces and bad syntax refuse to start with a sentence; whether the issuer answers is checked
    by `manage.py check` and at sign-in (audits/sso/checks.py, discovery.py)."""
    issuer = (read("MLAUDIT_OIDC_ISSUER") or "").strip().rstrip("/")
    if not issuer:
        return None
    client_id = (read("MLAUDIT_OIDC_CLIENT_ID") or "").strip()
    client_secret = (read("MLAUDIT_OIDC_CLIENT_SECRET") or "").strip()
    if not client_id or not client_secret:
        raise ImproperlyConfigured(
            "MLAUDIT_OIDC_ISSUER is set, so single sign-on needs MLAUDIT_OIDC_CLIENT_ID and "
            "MLAUDIT_OIDC_CLIENT_SECRET (or MLAUDIT_OIDC_CLIENT_SECRET_FILE) too."
        )
    scopes = tuple((read("MLAUDIT_OIDC_SCOPES") or "openid email profile").replace(",", " ").split())
    if "openid" not in scopes:
        scopes = ("openid", *scopes)
    try:
        group_roles = parse_group_roles(read("MLAUDIT_OIDC_GROUP_ROLES") or "")
    except ValueError as error:
        raise ImproperlyConfigured(f"MLAUDIT_OIDC_GROUP_ROLES: {error}") from None
    return OidcConfig(
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        discovery_url=(read("MLAUDIT_OIDC_DISCOVERY_URL") or "").strip() or issuer + DISCOVERY_PATH,
        provider_name=(read("MLAUDIT_OIDC_PROVIDER_NAME") or "").strip() or "SSO",
        scopes=scopes,
        groups_claim=(read("MLAUDIT_OIDC_GROUPS_CLAIM") or "").strip() or "groups",
        username_claim=(read("MLAUDIT_OIDC_USERNAME_CLAIM") or "").strip() or "preferred_username",
        sign_algo=(read("MLAUDIT_OIDC_SIGN_ALGO") or "").strip() or "RS256",
        timeout=read_float("MLAUDIT_OIDC_TIMEOUT", default=10.0),
        rp_logout=read_bool("MLAUDIT_OIDC_RP_LOGOUT", default=True),
        group_roles=group_roles,
    )
