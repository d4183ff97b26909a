"""API tokens: several named keys per user, stored only as a SHA-256 hash.

A key looks like ``mla_<prefix>_<secret>``. The eight-character prefix is stored in clear so a
request's token can be found with one indexed lookup and so people can tell their tokens apart;
the whole key is compared by hash, so a database leak does not leak usable keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.models import (
    KEY_PREFIX,
    LAST_USED_RESOLUTION,
    MAX_NAME_LENGTH,
    PREFIX_LENGTH,
    ApiToken,
    Project,
)
from audits.types import User


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _split_key(key: str) -> str | None:
    """The lookup prefix of a well-formed key, else None."""
    if not key.startswith(KEY_PREFIX) or len(key) < len(KEY_PREFIX) + PREFIX_LENGTH + 2:
        return None
    if key[len(KEY_PREFIX) + PREFIX_LENGTH] != "_":
        return None
    return key[len(KEY_PREFIX) : len(KEY_PREFIX) + PREFIX_LENGTH]


# Services ----------------------------------------------------------------------


def api_token_create(*, user: User, name: str, push_project: Project | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its key; the key is not stored and cannot be shown again.

    With `push_project` the token may only post reports to that project, and only a manager of its team
    may create one.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the token a name, for example the job that will use it.")]})
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError({"name": [_("Use at most %(n)s characters.") % {"n": MAX_NAME_LENGTH}]})
    if push_project is not None:
        # Imported here: audits.models imports this module to register ApiToken.
        from audits.models import Role
        from audits.selectors import has_role

        if not has_role(user=user, team=push_project.team, at_least=Role.MANAGER):
            raise ValidationError(_("Only a manager of the project's team can create a push token for it."))
    for _attempt in range(5):
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user, name=name, prefix=prefix, key_hash=hash_key(key), push_project=push_project
                )
        except IntegrityError:
            continue  # prefix collision: draw again
        return token, key
    raise RuntimeError("Could not draw an unused token prefix.")


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; revoking twice keeps the first revocation time."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise ValidationError(_("You have no such token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# Selectors ---------------------------------------------------------------------


def api_token_for_key(key: str) -> ApiToken | None:
    """The active token the key belongs to (with its user), or None."""
    prefix = _split_key(key)
    if prefix is None:
        return None
    token = (
        ApiToken.objects.select_related("user", "push_project").filter(prefix=prefix, revoked_at__isnull=True).first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, hash_key(key)):
        return None
    return token


def api_tokens_of(*, user: User) -> models.QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
