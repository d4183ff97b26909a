"""URLs of the load benchmark's gunicorn: the app's, plus its floor and a deliberate failure.

The floor is the cheapest signed-in view: the same middleware as every page (sessions, sign-in,
security headers, the request log line) and nothing else, so its latency under the load is what the
stack costs before any page work. The failure view answers 500 on purpose; the benchmark's test asks
for it to prove that errors are counted (BENCH_LOAD_INJECT=error).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from bench._floor_urls import urlpatterns as floor_urlpatterns
from bench.load_checks import FAILURE_PATH, FLOOR_PATH


def signed_in_floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"user": request.user.pk})


def injected_failure(request: HttpRequest) -> JsonResponse:
    raise RuntimeError("a failure the load benchmark asked for (BENCH_LOAD_INJECT=error)")


urlpatterns = [
    path(FLOOR_PATH.strip("/") + "/", signed_in_floor),
    path(FAILURE_PATH.strip("/") + "/", injected_failure),
    *floor_urlpatterns,
]
