"""Compress the HTML pages browsers load (the portfolio's page is ~10x smaller gzipped).

Only HTML: the API's JSON keeps its plain encoding for the scripts and test transports that read it
without decoding, and WhiteNoise already serves static files precompressed.

BREACH: a compressed response that reflects request input next to a secret can leak the secret through
its size. The secret on every page is the CSRF token, which Django masks anew for each response, so it
never repeats from one response to the next; session cookies travel in headers, which are not compressed.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware


class HtmlGZipMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
