"""`Authorization: Token <key>` for scripts; the browser uses its session."""

from __future__ import annotations

from typing import Any

from django.urls import resolve
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from audits.api.tokens import ApiToken, api_token_for_key, api_token_touch

KEYWORD = "Token"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as “Authorization: Token <key>”."))
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from None
        token = api_token_for_key(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This token is not valid or has been revoked."))
        if token.push_project_id is not None and not _is_push_to(request, token):
            raise exceptions.PermissionDenied(
                _("This is a push token: it may only post reports to the project “%(slug)s”.")
                % {"slug": token.push_project.slug if token.push_project else ""}
            )
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to requests without credentials.
        return KEYWORD


PUSH_URL_NAME = "api-project-reports"


def _is_push_to(request: Request, token: ApiToken) -> bool:
    """Whether the request posts a report to the token's own project (checked on the resolved route)."""
    match = request._request.resolver_match or resolve(request._request.path_info)
    return (
        request.method == "POST"
        and match.url_name == PUSH_URL_NAME
        and token.push_project is not None
        and match.kwargs.get("slug") == token.push_project.slug
    )


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "audits.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Send `Authorization: Token <key>`; create keys on /account/tokens/ "
            "or with `manage.py create_api_token`.",
        }
