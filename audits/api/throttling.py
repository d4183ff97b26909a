"""Request rates per API token (or signed-in session) and per anonymous client.

DRF's own throttle classes with the rates of REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]. Counters live in the
"api-throttle" cache (Redis when REDIS_URL is set, so every web worker shares them), or in the default cache
when that alias is not configured; the cache is looked up per request so a test's CACHES override applies.

When that cache cannot be reached the API keeps answering: each process counts in its own memory for
MLAUDIT_API_THROTTLE_CACHE_RETRY seconds (one warning in the log per such period), then tries the shared
cache again.
Anonymous clients are told apart by config.proxy.client_ip, the same rule as sign-in lockouts.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from audits.api.tokens import ApiToken
from config.proxy import client_ip

if TYPE_CHECKING:  # rest_framework.views imports this module through the settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


THROTTLE_CACHE_ALIAS = "api-throttle"


CACHE_ERRORS = (redis.RedisError, OSError)

log = logging.getLogger(__name__)
_local_counts = LocMemCache("api-throttle-fallback", {})
_shared_cache_failed_at: float | None = None
_lock = threading.Lock()


def throttle_cache() -> BaseCache:
    return caches[THROTTLE_CACHE_ALIAS if THROTTLE_CACHE_ALIAS in settings.CACHES else "default"]


def _shared_cache_rest() -> float:
    """Seconds counted per process after the shared cache failed, before trying it again."""
    return float(settings.MLAUDIT_API_THROTTLE_CACHE_RETRY)


def _shared_cache_resting() -> bool:
    failed_at = _shared_cache_failed_at
    return failed_at is not None and time.monotonic() - failed_at < _shared_cache_rest()


def _shared_cache_failed(error: Exception) -> None:
    global _shared_cache_failed_at
    with _lock:
        if _shared_cache_resting():
            return  # another thread already warned for this period
        _shared_cache_failed_at = time.monotonic()
    log.warning(
        "API rate limits: the shared throttle cache is unreachable (%s: %s); counting per process for %.0f s",
        type(error).__name__,
        error,
        _shared_cache_rest(),
    )


def shared_cache_recovered() -> None:
    """Forget a failure of the shared cache (tests; the next period's first request would do the same)."""
    global _shared_cache_failed_at
    _shared_cache_failed_at = None
    _local_counts.clear()


class SharedCacheRateThrottle(SimpleRateThrottle):
    """Counts in the shared cache, and per process while that cache is unreachable."""

    def __init__(self) -> None:
        self.cache = throttle_cache()
        super().__init__()

    def get_ident(self, request: Request) -> str:
        # Not DRF's NUM_PROXIES reading: one rule for the client address, defined in config/proxy.py.
        return client_ip(request._request) or ""

    def allow_request(self, request: Request, view: APIView) -> bool:
        if _shared_cache_resting():
            self.cache = _local_counts
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as error:
            _shared_cache_failed(error)
            self.cache = _local_counts
            return super().allow_request(request, view)


class TokenRateThrottle(SharedCacheRateThrottle):
    """One budget per token, so two scripts of one user do not starve each other; sessions count per user."""

    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        ident = f"token-{request.auth.pk}" if isinstance(request.auth, ApiToken) else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(SharedCacheRateThrottle, AnonRateThrottle):
    """DRF's anonymous throttle (one budget per client address), counted like the others."""
