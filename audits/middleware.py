"""Sign-in is required everywhere by default, so a page added later cannot forget it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponseBase


class SignInRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, plus whole URL prefixes that handle access themselves.

    Single public views opt out with @login_not_required; prefixes cover areas with their own
    authentication (the REST API answers 401/403 instead of redirecting, the admin has its own
    sign-in page) and the probes that load balancers call without a session.
    """

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponseBase | None:
        if request.path_info.startswith(tuple(settings.SIGN_IN_EXEMPT_PATH_PREFIXES)):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
