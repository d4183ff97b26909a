from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


class SignInThrottleBackend(AxesStandaloneBackend):
    """django-axes lockout check for sign-ins coming from a request.

    Calls without a request (management commands, the test client's login()) are not web
    sign-ins and cannot be throttled by IP; they fall through to the model backend instead of
    raising, as plain AxesStandaloneBackend would.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:  # type: ignore[override]
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LocalPasswordsGate:
    """First of AUTHENTICATION_BACKENDS: while MLAUDIT_LOCAL_PASSWORDS is off no password signs anyone in, on
    any page (the admin's sign-in and the test client's login() included); PermissionDenied stops Django
    from asking the backends after this one. Provider sign-ins carry no password and pass. It has no get_user(),
    so sessions (and the test client's force_login) never name it as their backend."""

    def authenticate(self, request: HttpRequest | None, password: str | None = None, **kwargs: Any) -> None:
        if password is not None and not settings.MLAUDIT_LOCAL_PASSWORDS:
            raise PermissionDenied("Local passwords are disabled (MLAUDIT_LOCAL_PASSWORDS).")
        return None
