"""Password reset: the same answer and the same work whether or not the address has an account.

Django's view looks the address up, makes a token and renders and sends the mail inside the request, so
a known address took measurably longer than an unknown one. Here the request only checks the rate limits
and queues a task (audits.tasks.send_password_reset_mail) that does all of that in a worker. The limits
keep one address, or one client, from being sent a stream of mails.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse_lazy
from kombu.exceptions import OperationalError

from audits.api.throttling import CACHE_ERRORS, throttle_cache
from audits.tasks import send_password_reset_mail
from config.proxy import client_ip

# Mails one address may be sent, and requests one client address may make, per window.
RESET_MAILS_PER_ADDRESS = 3
RESET_REQUESTS_PER_CLIENT = 10
RESET_WINDOW_SECONDS = 60 * 60

log = logging.getLogger(__name__)
# Counts when the shared cache (Redis) is unreachable: per process, which still bounds the mails.
_local_counts = LocMemCache("password-reset-fallback", {})


def _count(cache: BaseCache, key: str) -> int:
    cache.add(key, 0, RESET_WINDOW_SECONDS)
    try:
        return int(cache.incr(key))
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, RESET_WINDOW_SECONDS)
        return 1


def _within(key: str, limit: int) -> bool:
    try:
        return _count(throttle_cache(), key) <= limit
    except CACHE_ERRORS as error:
        log.warning("Password reset limits: the shared cache is unreachable (%s); counting per process", error)
        return _count(_local_counts, key) <= limit


def reset_allowed(*, email: str, client: str | None) -> bool:
    """Count this request against both limits; True if a mail may be sent."""
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()  # no addresses in the cache
    client_ok = _within(f"password-reset:client:{client or 'unknown'}", RESET_REQUESTS_PER_CLIENT)
    address_ok = _within(f"password-reset:address:{address}", RESET_MAILS_PER_ADDRESS)
    return client_ok and address_ok


def _queue_mail(*, email: str, domain: str, use_https: bool) -> None:
    try:
        send_password_reset_mail.delay(email=email, domain=domain, use_https=use_https)
    except (OperationalError, OSError):
        # The broker is down: the page still answers as always (it cannot say whether a mail was due).
        log.exception("Password reset: the task queue is unreachable; no mail was sent")


class PasswordResetView(auth_views.PasswordResetView):
    success_url = reverse_lazy("account:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        email = form.cleaned_data["email"]
        if reset_allowed(email=email, client=client_ip(self.request)):
            domain, use_https = self.request.get_host(), self.request.is_secure()
            transaction.on_commit(lambda: _queue_mail(email=email, domain=domain, use_https=use_https))
        else:
            log.warning("Password reset: rate limit reached; no mail queued")
        # The same page either way: it never tells whether the address has an account.
        return HttpResponseRedirect(self.get_success_url())


def local_passwords_required(view: Any) -> Any:
    """Password pages (reset, change) do not exist while local passwords are off."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not settings.MLAUDIT_LOCAL_PASSWORDS:
            raise Http404("Local passwords are disabled.")
        return view(request, *args, **kwargs)

    return wrapped


class SignInView(auth_views.LoginView):
    """The sign-in page: "Sign in with <provider>" when SSO is configured, the password form while local
    passwords are enabled."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sso"] = settings.MLAUDIT_OIDC
        context["local_passwords"] = settings.MLAUDIT_LOCAL_PASSWORDS
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.MLAUDIT_LOCAL_PASSWORDS:
            return self.render_to_response(self.get_context_data(), status=403)
        return super().post(request, *args, **kwargs)
