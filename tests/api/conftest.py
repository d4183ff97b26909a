"""Fixtures for the REST API tests: token clients per role and an audit with known answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from audits.api.throttling import THROTTLE_CACHE_ALIAS, shared_cache_recovered
from audits.api.tokens import api_token_create
from audits.models import Audit, Project
from audits.services import answers_bulk_upsert, audit_start, audit_submit

ROLES = ["anonymous", "outsider", "viewer", "editor", "manager", "staff"]

# data 3 automated + 1 manual = 3.5; model 2 automated + 1 manual = 2.5; infra 4; monitoring 3.
KNOWN_STATUSES: dict[str, str] = {
    **{f"data-{n}": s for n, s in enumerate(["automated"] * 3 + ["manual"] + ["not_done"] * 3, start=1)},
    **{f"model-{n}": s for n, s in enumerate(["automated"] * 2 + ["manual"] + ["not_done"] * 4, start=1)},
    **{f"infra-{n}": s for n, s in enumerate(["automated"] * 4 + ["not_done"] * 3, start=1)},
    **{f"monitoring-{n}": s for n, s in enumerate(["automated"] * 3 + ["not_done"] * 4, start=1)},
}
KNOWN_SECTIONS = {"data": 3.5, "model": 2.5, "infra": 4.0, "monitoring": 3.0}
KNOWN_FINAL = 2.5
KNOWN_BAND = "Reasonably tested"


def known_answers() -> list[dict[str, object]]:
    return [
        {"item": code, "status": status, "notes": f"notes for {code}", "evidence": [f"https://ci.example.com/{code}"]}
        for code, status in KNOWN_STATUSES.items()
    ]


def add_projects(team, count, *, start=0):
    return [
        Project.objects.create(team=team, name=f"Model {start + n:03}", slug=f"model-{start + n:03}")
        for n in range(count)
    ]


def submit_known(project, actor, entries=None):
    audit = audit_start(actor=actor, project=project)
    answers_bulk_upsert(actor=actor, audit=audit, entries=entries if entries is not None else known_answers())
    return audit_submit(actor=actor, audit=audit)


def slugs(response):
    return [row["slug"] for row in response.json()["results"]]


@pytest.fixture(autouse=True)
def fresh_throttle_counts(settings):
    # Throttle counters outlive a test's database transaction: each test counts in a cache of its own
    # in memory (never the Redis that REDIS_URL may name, which other tests share).
    settings.CACHES = {
        **settings.CACHES,
        THROTTLE_CACHE_ALIAS: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-tests"},
    }
    caches[THROTTLE_CACHE_ALIAS].clear()
    shared_cache_recovered()
    yield
    caches[THROTTLE_CACHE_ALIAS].clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def token_client() -> Callable[[object], APIClient]:
    def make(user: object) -> APIClient:
        client = APIClient()
        if user is not None:
            _token, key = api_token_create(user=user, name="tests")
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def client_as(request, token_client) -> Callable[[str], APIClient]:
    """A client authenticated with a token of the named role (or none for "anonymous")."""

    def make(role: str) -> APIClient:
        return token_client(None if role == "anonymous" else request.getfixturevalue(role))

    return make


@pytest.fixture
def draft_audit(project: Project, manager, rubric) -> Audit:
    return audit_start(actor=manager, project=project, rubric=rubric)


@pytest.fixture
def answered_audit(draft_audit: Audit, manager) -> Audit:
    answers_bulk_upsert(actor=manager, audit=draft_audit, entries=known_answers())
    return draft_audit


@pytest.fixture
def submitted_audit(answered_audit: Audit, manager) -> Audit:
    return audit_submit(actor=manager, audit=answered_audit)


@pytest.fixture
def improved_audit(submitted_audit: Audit, manager, project: Project) -> Audit:
    """A second submitted audit, copied from the first, with model-4 and model-5 now automated (final 3.0)."""
    later = audit_start(actor=manager, project=project, copy_from_latest=True)
    answers_bulk_upsert(
        actor=manager, audit=later, entries=[{"item": f"model-{n}", "status": "automated"} for n in (4, 5)]
    )
    return audit_submit(actor=manager, audit=later)


@pytest.fixture
def throttle_rates(monkeypatch):
    """Set the API's request rates for one test, as DRF reads them (bound to the throttle classes at import)."""
    from rest_framework.throttling import SimpleRateThrottle

    def set_rates(**rates: str) -> None:
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, **rates})

    return set_rates
