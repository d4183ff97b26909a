"""The authentication backend: mozilla-django-oidc's code flow, with every provider detail read from
`settings.MLAUDIT_OIDC` and the discovery document, and the checks the library leaves out.

The library verifies the ID token's signature, expiry and nonce; it does not check the audience or the
issuer, so `_verify_jws` does (PyJWT, which the library already uses). Users are found by (issuer, subject)
through `OidcIdentity`, never by email; groups are applied by `services.sign_in_apply`.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from audits.sso import discovery, services
from audits.types import User
from config.oidc import OidcConfig

log = logging.getLogger(__name__)

# The library's setting names that come from the provider's metadata, and the key in that document.
_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
# Clock skew allowed between mlaudit and the provider when checking exp, iat and nbf.
LEEWAY_SECONDS = 60


def config() -> OidcConfig:
    found: OidcConfig | None = settings.MLAUDIT_OIDC
    if found is None:
        raise discovery.ProviderUnavailable("Single sign-on is not configured.")
    return found


def oidc_setting(attr: str, *default: Any) -> Any:
    """What mozilla-django-oidc reads as a Django setting, from MLAUDIT_OIDC and the provider's metadata."""
    if attr in _ENDPOINTS:
        return discovery.metadata(config())[_ENDPOINTS[attr]]
    current = settings.MLAUDIT_OIDC
    if current is not None:
        values: dict[str, Any] = {
            "OIDC_RP_CLIENT_ID": current.client_id,
            "OIDC_RP_CLIENT_SECRET": current.client_secret,
            "OIDC_RP_SCOPES": " ".join(current.scopes),
            "OIDC_RP_SIGN_ALGO": current.sign_algo,
            "OIDC_TIMEOUT": current.timeout,
            "OIDC_CREATE_USER": True,
        }
        if attr in values:
            return values[attr]
    return import_from_settings(attr, *default)


class OidcBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(oidc_setting)  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads every endpoint here; this backend is built for every sign-in, password ones
        # included, so the endpoints are read (and the metadata fetched) only when a callback needs them.
        from django.contrib.auth import get_user_model

        self.UserModel = get_user_model()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("OIDC_"):
            return oidc_setting(name, None)
        raise AttributeError(name)

    def authenticate(self, request: Any, **kwargs: Any) -> User | None:
        # Only on the callback route: password sign-ins never reach the provider.
        match = getattr(request, "resolver_match", None)
        if (
            settings.MLAUDIT_OIDC is None
            or match is None
            or match.view_name != settings.OIDC_AUTHENTICATION_CALLBACK_URL
        ):
            return None
        return super().authenticate(request, **kwargs)

    def _verify_jws(self, payload: str, key: Any) -> dict[str, Any]:
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(
                f"The ID token is signed with {header.get('alg')!r}, not {self.OIDC_RP_SIGN_ALGO} as expected."
            )
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=config().client_id,
                issuer=discovery.metadata(config())["issuer"],
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise SuspiciousOperation("The ID token has expired.") from None
        except jwt.InvalidAudienceError:
            raise SuspiciousOperation("The ID token was issued to another client (wrong audience).") from None
        except jwt.InvalidIssuerError:
            raise SuspiciousOperation("The ID token was issued by another issuer.") from None
        except jwt.InvalidSignatureError:
            raise SuspiciousOperation("The ID token's signature does not verify.") from None
        except jwt.PyJWTError as error:
            raise SuspiciousOperation(f"The ID token is not valid ({error}).") from None

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User:
        """Find the user by the ID token's (issuer, subject), create them on first sign-in, then bring their
        details and group roles up to date. The userinfo answer adds claims but may not change the subject."""
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(userinfo, dict):
            raise SuspiciousOperation("The provider's userinfo answer is not a JSON object.")
        if "sub" in userinfo and userinfo["sub"] != payload["sub"]:
            raise SuspiciousOperation("The userinfo answer is about another subject than the ID token.")
        claims = {**payload, **userinfo}
        current = config()
        return services.sign_in_apply(
            issuer=str(payload["iss"]),
            subject=str(payload["sub"]),
            claims=claims,
            username_claim=current.username_claim,
            groups_claim=current.groups_claim,
            env_rules=current.group_roles,
        )
