"""Redis (the broker and the API's throttle cache) unreachable, on a production-mode gunicorn.

What must hold (README "Rate limits", "Health and logs", "Outages"): the REST API keeps answering, the
anonymous public badge included, with rate limits counted per web process and a warning in the log; pages
work; /healthz is ok and /readyz answers 503 naming the broker. When Redis is back, the counters are shared
in Redis again. Nothing saved before or during the outage is lost.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
import redis

from tests.deploy.conftest import REDIS_URL
from tests.faults._instance import ANON_RATE, PROJECT_SLUG, SEEDED_NOTES, THROTTLE_CACHE_RETRY, Instance

BADGE = f"/projects/{PROJECT_SLUG}/badge.svg"


def a_new_client() -> str:
    """An address no earlier request (of this run or another sharing the Redis database) counted against."""
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


@pytest.fixture
def redis_down(instance: Instance) -> Iterator[Instance]:
    instance.redis.cut()
    try:
        yield instance
    finally:
        instance.redis.restore()


def test_with_redis_unreachable_the_api_keeps_answering_and_saves(redis_down):
    instance = redis_down
    offset = instance.log_offset()

    projects = instance.api("GET", "/projects/")
    assert projects.status_code == 200, projects.text[:500]
    assert [project["slug"] for project in projects.json()["results"]] == [PROJECT_SLUG]
    score = instance.api("GET", f"/audits/{instance.submitted_audit}/score/")
    assert score.status_code == 200, score.text[:500]
    assert score.json()["final"] is not None
    badge = instance.request("GET", "/api/v1" + BADGE, client=a_new_client())
    assert badge.status_code == 200, badge.text[:500]
    assert badge.headers["Content-Type"].startswith("image/svg+xml")
    saved = instance.api(
        "PATCH",
        f"/audits/{instance.draft_audit}/answers/",
        json=[{"item": "data-2", "status": "manual", "notes": "saved while Redis was down"}],
    )
    assert saved.status_code == 200, saved.text[:500]

    assert instance.notes_in_database(instance.draft_audit) == {
        **SEEDED_NOTES,
        "data-2": "saved while Redis was down",
    }
    warnings = [
        line
        for line in instance.log_since(offset)
        if line["logger"] == "audits.api.throttling" and "counting per process" in line["message"]
    ]
    assert warnings and warnings[0]["level"] == "WARNING"
    assert not [line for line in instance.log_since(offset) if line["level"] == "ERROR"]


def test_with_redis_unreachable_each_web_process_still_limits_an_anonymous_client(redis_down):
    client = a_new_client()
    # Two web processes, each counting on its own: the first ANON_RATE requests all pass whichever process
    # serves them, and by 2 * ANON_RATE + 1 one of the two has seen more than ANON_RATE.
    codes = [redis_down.request("GET", "/api/v1" + BADGE, client=client).status_code for _ in range(2 * ANON_RATE + 1)]
    assert codes[:ANON_RATE] == [200] * ANON_RATE
    assert 429 in codes
    assert set(codes) == {200, 429}


def test_with_redis_unreachable_pages_work_and_readyz_names_the_broker(redis_down):
    instance = redis_down
    for path in ("/", "/projects/", f"/audits/{instance.draft_audit}/"):
        response = instance.page(path)
        assert response.status_code == 200, path

    assert instance.request("GET", "/healthz").json() == {"status": "ok"}
    ready = instance.request("GET", "/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unreachable")


def test_when_redis_is_back_the_rate_limits_are_shared_in_redis_again(instance):
    instance.redis.cut()
    assert instance.api("GET", "/projects/").status_code == 200  # a process now counts in its own memory
    instance.redis.restore()
    assert instance.request("GET", "/readyz").status_code == 200

    time.sleep(THROTTLE_CACHE_RETRY + 0.5)  # the processes try Redis again after this
    client = a_new_client()
    assert instance.request("GET", "/api/v1" + BADGE, client=client).status_code == 200
    counters = redis.Redis.from_url(REDIS_URL).keys(f"*throttle_anon_{client}")
    assert counters, "the anonymous client's requests were not counted in Redis"
    assert instance.notes_in_database(instance.draft_audit).items() >= SEEDED_NOTES.items()
