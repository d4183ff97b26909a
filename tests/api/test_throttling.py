"""API request rates per token and per anonymous client: budgets, rates from the environment, Redis, proxies."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from audits.api.throttling import THROTTLE_CACHE_ALIAS, shared_cache_recovered
from audits.models import Project

pytestmark = pytest.mark.django_db


def test_each_token_has_its_own_request_budget(settings, token_client, project, viewer, throttle_rates):
    throttle_rates(user="3/minute", anon="2/minute")
    first, second = token_client(viewer), token_client(viewer)
    assert [first.get("/api/v1/projects/").status_code for _ in range(4)] == [200, 200, 200, 429]
    throttled = first.get("/api/v1/projects/")
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert second.get("/api/v1/projects/").status_code == 200


def test_anonymous_clients_are_throttled_separately(settings, project, throttle_rates):
    throttle_rates(user="3/minute", anon="2/minute")
    Project.objects.filter(pk=project.pk).update(badge_public=True)
    anonymous = APIClient()
    codes = [anonymous.get("/api/v1/projects/search-ranking/badge.svg").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_throttle_rates_come_from_the_environment():
    env = {**os.environ, "MLAUDIT_API_THROTTLE_USER": "7/hour", "MLAUDIT_API_THROTTLE_ANON": "5/day"}
    program = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])"
    )
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    out = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True).stdout
    assert "'user': '7/hour'" in out and "'anon': '5/day'" in out


def test_throttle_counts_can_be_kept_in_redis_for_all_workers(settings, token_client, project, viewer, throttle_rates):
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    prefix = f"mlaudit-test-throttle-{uuid.uuid4().hex}"
    settings.CACHES = {
        **settings.CACHES,
        THROTTLE_CACHE_ALIAS: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        },
    }
    throttle_rates(user="2/minute", anon="2/minute")
    client = token_client(viewer)
    token = viewer.api_tokens.get()
    try:
        assert [client.get("/api/v1/projects/").status_code for _ in range(3)] == [200, 200, 429]
        assert len(caches[THROTTLE_CACHE_ALIAS].get(f"throttle_user_token-{token.pk}")) == 2
    finally:
        caches[THROTTLE_CACHE_ALIAS].delete(f"throttle_user_token-{token.pk}")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_with_the_throttle_cache_unreachable_the_api_answers_and_counts_per_process(
    settings, token_client, project, viewer, caplog, throttle_rates
):
    in_memory = settings.CACHES
    settings.CACHES = {
        **settings.CACHES,
        THROTTLE_CACHE_ALIAS: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        },
    }
    throttle_rates(user="3/minute", anon="2/minute")
    Project.objects.filter(pk=project.pk).update(badge_public=True)
    anonymous, signed_in = APIClient(), token_client(viewer)
    try:
        with caplog.at_level("WARNING", logger="audits.api.throttling"):
            badges = [anonymous.get("/api/v1/projects/search-ranking/badge.svg").status_code for _ in range(3)]
            lists = [signed_in.get("/api/v1/projects/").status_code for _ in range(4)]
    finally:
        settings.CACHES = in_memory  # before the fixtures clear the throttle cache
        shared_cache_recovered()
    assert badges == [200, 200, 429]
    assert lists == [200, 200, 200, 429]
    warnings = [record for record in caplog.records if "counting per process" in record.getMessage()]
    assert len(warnings) == 1  # once per period, not per request


def test_a_forged_forwarded_for_header_does_not_escape_the_anonymous_limit(settings, project, throttle_rates):
    settings.TRUSTED_PROXY_COUNT = 0  # clients reach gunicorn directly
    throttle_rates(user="600/minute", anon="60/minute")
    Project.objects.filter(pk=project.pk).update(badge_public=True)
    anonymous = APIClient()
    badge = "/api/v1/projects/search-ranking/badge.svg"
    codes = [anonymous.get(badge, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(70)]
    assert codes.count(200) == 60 and codes.count(429) == 10


def test_behind_a_proxy_only_the_address_it_appended_counts(settings, project, throttle_rates):
    settings.TRUSTED_PROXY_COUNT = 1
    throttle_rates(user="600/minute", anon="3/minute")
    Project.objects.filter(pk=project.pk).update(badge_public=True)
    anonymous = APIClient()
    badge = "/api/v1/projects/search-ranking/badge.svg"
    codes = [anonymous.get(badge, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.9").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]
