"""Content Security Policy: scripts and styles from this site, inline scripts only with a nonce.

Each request gets a fresh nonce (`request.csp_nonce`, and `{{ csp_nonce }}` in templates
through the `csp_nonce` context processor). An inline script runs only when written as
`<script nonce="{{ csp_nonce }}">…</script>`; prefer a file under static/ instead.
Scripts from other sites (a CDN copy of Plotly, for instance) are refused: serve them
from static/.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

NONCE_PLACEHOLDER = "{nonce}"

# Inline style attributes stay allowed: Plotly and the admin set them, and they cannot run code.
DEFAULT_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{NONCE_PLACEHOLDER}'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Send the policy (CONTENT_SECURITY_POLICY) with every response, with this request's nonce.

    With CSP_REPORT_ONLY the browser reports violations in its console but blocks nothing
    (the default while DEBUG is on, so development shows what production would block).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy: str = settings.CONTENT_SECURITY_POLICY
        self.header = "Content-Security-Policy-Report-Only" if settings.CSP_REPORT_ONLY else "Content-Security-Policy"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if self.policy and self.header not in response:
            response[self.header] = self.policy.replace(NONCE_PLACEHOLDER, nonce)
        return response


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """Template context processor: `{{ csp_nonce }}` for the rare inline <script>."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
