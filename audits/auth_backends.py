from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
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
