"""Content Security Policy, sent by django-csp: scripts and styles from this site, inline scripts only with
a nonce.

The policy is written here as directives; CONTENT_SECURITY_POLICY in the environment may replace it with a
whole header (``{nonce}`` standing for each response's nonce). An inline script runs only when written as
``<script nonce="{{ CSP_NONCE }}">…</script>`` (django-csp's context processor); django-csp adds the nonce
to the header only on responses whose templates used it, so pages without inline scripts allow none.
Prefer a file under static/. Scripts from other sites (a CDN copy of Plotly, for instance) are refused:
serve them from static/.
"""

from __future__ import annotations

from typing import Any

from csp.constants import NONCE, NONE, SELF

NONCE_PLACEHOLDER = "'nonce-{nonce}'"

# Inline style attributes stay allowed: Plotly and the admin set them, and they cannot run code.
DEFAULT_DIRECTIVES: dict[str, list[Any]] = {
    "default-src": [SELF],
    "script-src": [SELF, NONCE],
    "style-src": [SELF, "'unsafe-inline'"],
    "img-src": [SELF, "data:", "blob:"],
    "font-src": [SELF, "data:"],
    "connect-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}


def directives_from_header(header: str) -> dict[str, list[Any]]:
    """A whole policy header ("default-src 'self'; script-src 'self' 'nonce-{nonce}'") as directives."""
    directives: dict[str, list[Any]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        if name:
            directives[name.lower()] = [NONCE if value == NONCE_PLACEHOLDER else value for value in values]
    return directives


def csp_settings(header: str | None, *, report_only: bool) -> tuple[dict | None, dict | None]:
    """django-csp's CONTENT_SECURITY_POLICY and CONTENT_SECURITY_POLICY_REPORT_ONLY settings.

    ``header`` None keeps the policy above; an empty header sends no policy at all. Report-only sends the
    same policy as Content-Security-Policy-Report-Only (browsers report violations and block nothing).
    """
    if header is not None and not header.strip():
        return None, None
    directives = DEFAULT_DIRECTIVES if header is None else directives_from_header(header)
    policy = {"DIRECTIVES": directives}
    return (None, policy) if report_only else (policy, None)
