"""The provider's metadata (`/.well-known/openid-configuration`), fetched when first needed and kept an hour.

Fetched lazily, not at start-up, so a provider that is down for a moment never stops mlaudit from starting;
the sign-in page says it is unreachable instead, and `manage.py check` reports it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from config.oidc import OidcConfig

CACHE_SECONDS = 3600
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint")

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


class ProviderUnavailable(Exception):
    """The provider could not be reached or did not answer with usable metadata; str() is a sentence."""


class ProviderMisconfigured(ProviderUnavailable):
    """The provider answered, but not as the configured issuer would."""


def metadata(config: OidcConfig) -> dict[str, Any]:
    """The discovery document, checked against the configured issuer."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(config.discovery_url)
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    document = fetch(config)
    with _lock:
        _cache[config.discovery_url] = (now, document)
    return document


def fetch(config: OidcConfig) -> dict[str, Any]:
    try:
        response = requests.get(config.discovery_url, timeout=config.timeout, headers={"Accept": "application/json"})
        if 400 <= response.status_code < 500:
            # Something answered, and says there is no such document: the URL is wrong, not the provider down.
            raise ProviderMisconfigured(
                f"{config.discovery_url} answered {response.status_code}: there is no OpenID Connect discovery "
                "document there."
            )
        response.raise_for_status()
        document = response.json()
    except requests.RequestException as error:
        raise ProviderUnavailable(
            f"The identity provider's metadata at {config.discovery_url} could not be read ({type(error).__name__})."
        ) from error
    except ValueError:
        raise ProviderMisconfigured(f"{config.discovery_url} did not answer with a JSON document.") from None
    if not isinstance(document, dict):
        raise ProviderMisconfigured(f"{config.discovery_url} did not answer with an OpenID Connect discovery document.")
    issuer = str(document.get("issuer", "")).rstrip("/")
    if issuer != config.issuer:
        raise ProviderMisconfigured(
            f"The provider at {config.discovery_url} calls itself “{document.get('issuer')}”, "
            f"not “{config.issuer}” as MLAUDIT_OIDC_ISSUER says: set MLAUDIT_OIDC_ISSUER to its issuer exactly."
        )
    missing = [name for name in REQUIRED_ENDPOINTS if not document.get(name)]
    if missing:
        raise ProviderMisconfigured(f"The provider's metadata at {config.discovery_url} lacks {', '.join(missing)}.")
    return document


def forget() -> None:
    """Drop cached metadata (tests, and after the configuration changed)."""
    with _lock:
        _cache.clear()
