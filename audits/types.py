"""The user types every layer speaks of: whoever made the request (``Actor``) and a signed-in ``User``.

Why the concrete ``django.contrib.auth.models.User`` and not ``AbstractBaseUser``: the project keeps
Django's default user model (no AUTH_USER_MODEL), and the code reads ``is_staff``, ``is_active``,
``username``, ``email`` and writes users into foreign keys; AbstractBaseUser declares none of the first and
the stubs refuse it for the second, so with it mypy could check neither. django-stubs' plugin types
``request.user`` (Django's and DRF's) as ``User | AnonymousUser`` for this model, so a view passes it to a
selector as it is. Should the project ever swap the user model, the import below is the line to change.

Why ``isinstance(user, User)`` where code means "signed in": mypy cannot narrow a union on
``is_authenticated``, and for these two types the two tests agree (a User is always authenticated, the
anonymous user never), so the isinstance check is the one that lets mypy check what follows.

rubric and evidence define no function that takes a user (evidence/api.py hands ``request.user`` straight
to audits.selectors), so only audits and integrations import this module, and it imports nothing of theirs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request

# Whoever made the request: a signed-in user or the anonymous one. Selectors and permission checks take
# this, because they answer for anyone (an anonymous visitor sees nothing and may do nothing).
Actor = User | AnonymousUser

# `User`, re-exported: services that record who acted (created_by, assigned_by, a token's owner) or write
# to them take a signed-in user; views get one from `actor_of`.
__all__ = ["Actor", "User", "actor_of"]


def actor_of(request: HttpRequest | Request) -> User:
    """The signed-in user behind a request, for the services a view calls.

    Pages sit behind SignInRequiredMiddleware and the API behind IsAuthenticated, so an anonymous request
    does not get here; should one (a page that opts out of sign-in), it is refused with PermissionDenied, as
    the services' own role checks refuse the anonymous user. ``request.user`` itself is returned (Django's
    lazy user passes the isinstance check), so the services get the very object they got before.
    """
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
