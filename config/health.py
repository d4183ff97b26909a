"""Health probes for load balancers and orchestrators.

/healthz says the process answers (no I/O at all); /readyz says the database and the
Celery broker are reachable. Both are cheap enough to poll every few seconds, never
require a login, and are answered before host validation and the HTTPS redirect so
that a probe addressed to a container IP over plain HTTP still gets an answer.

`python -m config.health database broker` runs the same checks from a shell
(the docker-compose health checks of the worker and beat use it).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

HEALTHZ_PATH = "/healthz"
READYZ_PATH = "/readyz"


def check_database(alias: str = "default") -> str:
    """Run a trivial query; the connect timeout comes from DATABASES[alias]["OPTIONS"]."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_broker() -> str:
    broker_url = settings.CELERY_BROKER_URL
    if not broker_url or settings.CELERY_TASK_ALWAYS_EAGER:
        return "not used: tasks run in-process"
    timeout = settings.HEALTH_CHECK_TIMEOUT
    if urlsplit(broker_url).scheme in {"redis", "rediss"}:
        import redis

        client = redis.Redis.from_url(broker_url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    from kombu import Connection

    with Connection(broker_url, connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=1)
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {"database": check_database, "broker": check_broker}


def run_checks(names: list[str]) -> tuple[dict[str, str], list[str]]:
    """Return each check's outcome and the names of those that failed."""
    outcomes: dict[str, str] = {}
    failing: list[str] = []
    for name in names:
        try:
            outcomes[name] = CHECKS[name]()
        except Exception as error:
            # The class name is enough for the caller; details (hosts, ports) go to the log only.
            logger.warning("readiness check %s failed: %s", name, error, exc_info=True)
            outcomes[name] = f"unreachable ({type(error).__name__})"
            failing.append(name)
    return outcomes, failing


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    outcomes, failing = run_checks(list(CHECKS))
    if failing:
        return JsonResponse({"status": "unavailable", "failing": failing, "checks": outcomes}, status=503)
    return JsonResponse({"status": "ok", "checks": outcomes})


PROBES = {HEALTHZ_PATH: healthz, READYZ_PATH: readyz}


class HealthProbeMiddleware:
    """Answer the probes first, ahead of ALLOWED_HOSTS, the HTTPS redirect, sessions and logins.

    Orchestrators address containers by IP and over plain HTTP; those requests would
    otherwise get a 400 (unknown host) or a 301 (HTTPS redirect). The probes expose
    nothing that depends on the host name, so skipping host validation is safe here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/") or "/")
        if probe is not None:
            return probe(request)
        return self.get_response(request)


def main(argv: list[str]) -> int:
    """Shell entry point: exit 0 when every named check passes, 1 otherwise."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    names = argv or list(CHECKS)
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        print(f"unknown check(s): {', '.join(unknown)}; known: {', '.join(CHECKS)}", file=sys.stderr)
        return 2
    outcomes, failing = run_checks(names)
    for name, outcome in outcomes.items():
        print(f"{name}: {outcome}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
