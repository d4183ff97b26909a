"""Request rates per API token (or signed-in session) and per anonymous client.

Rates and the cache holding the counters are looked up on every request rather than once at import, so
settings overrides apply. Counters live in the "api-throttle" cache (Redis when REDIS_URL is set, so every
web worker shares them), or in the default cache when that alias is not configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import BaseCache, caches
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from audits.api.tokens import ApiToken

if TYPE_CHECKING:  # rest_framework.views imports this module through the settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


THROTTLE_CACHE_ALIAS = "api-throttle"


def throttle_cache() -> BaseCache:
    return caches[THROTTLE_CACHE_ALIAS if THROTTLE_CACHE_ALIAS in settings.CACHES else "default"]


class _LiveRates:
    scope: str | None

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate is not None else None


class TokenRateThrottle(_LiveRates, SimpleRateThrottle):
    """One budget per token, so two scripts of one user do not starve each other; sessions count per user."""

    scope = "user"

    def __init__(self) -> None:
        self.cache = throttle_cache()
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        ident = f"token-{request.auth.pk}" if isinstance(request.auth, ApiToken) else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(_LiveRates, AnonRateThrottle):
    def __init__(self) -> None:
        self.cache = throttle_cache()
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
