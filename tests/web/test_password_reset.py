"""Password reset requests (issue 12, defect 11): rate-limited per address and per client, the same answer
and the same request-time work for known and unknown addresses, the mail sent by a task."""

from __future__ import annotations

import base64
import json
import os

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from audits.api.throttling import THROTTLE_CACHE_ALIAS
from audits.tasks import send_password_reset_mail
from audits.views import accounts
from audits.views.accounts import RESET_MAILS_PER_ADDRESS, RESET_REQUESTS_PER_CLIENT
from tests.mlflow.conftest import celery_broker

pytestmark = pytest.mark.django_db

URL = "/account/password_reset/"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture(autouse=True)
def own_counters(settings):
    # Counters outlive the test's transaction: each test counts in a memory cache of its own.
    settings.CACHES = {
        **settings.CACHES,
        THROTTLE_CACHE_ALIAS: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "reset"},
    }
    caches[THROTTLE_CACHE_ALIAS].clear()
    accounts._local_counts.clear()
    yield
    caches[THROTTLE_CACHE_ALIAS].clear()
    accounts._local_counts.clear()


def request_reset(client, email: str, **extra):
    return client.post(URL, {"email": email}, **extra)


def test_a_reset_request_sends_the_link_to_the_accounts_address(client, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = request_reset(client, manager.email)
    assert response.status_code == 302 and response["Location"] == "/account/password_reset/done/"
    assert [message.to for message in mail.outbox] == [[manager.email]]
    assert "/account/reset/" in mail.outbox[0].body


def test_the_request_does_not_send_the_mail_itself_the_task_does(client, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = request_reset(client, manager.email)
    # The response is complete and nothing was rendered or sent: that work waits for the queued task.
    assert response.status_code == 302
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()  # what the commit does: send the task (eager here, as in `make run`)
    assert [message.to for message in mail.outbox] == [[manager.email]]


def test_known_and_unknown_addresses_get_the_same_answer_after_the_same_queries(
    client, manager, django_capture_on_commit_callbacks
):
    answers, query_counts = [], []
    for email in (manager.email, "nobody@example.com"):
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=False):
            response = request_reset(client, email)
        answers.append((response.status_code, response["Location"]))
        query_counts.append(len(queries))
    assert answers[0] == answers[1]
    assert query_counts[0] == query_counts[1] == 0, "the request looked the address up"


def test_fifteen_requests_for_one_address_send_only_the_limit_of_mails(
    client, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        responses = [request_reset(client, manager.email, REMOTE_ADDR=f"10.0.0.{n}") for n in range(15)]
    assert {(r.status_code, r["Location"]) for r in responses} == {(302, "/account/password_reset/done/")}
    assert len(mail.outbox) == RESET_MAILS_PER_ADDRESS


def test_one_client_asking_for_many_addresses_is_limited_too(client, db, django_capture_on_commit_callbacks):
    from tests.conftest import make_user

    users = [make_user(f"user{n}") for n in range(RESET_REQUESTS_PER_CLIENT + 5)]
    with django_capture_on_commit_callbacks(execute=True):
        for user in users:
            assert request_reset(client, user.email).status_code == 302
    assert len(mail.outbox) == RESET_REQUESTS_PER_CLIENT


def test_the_limits_hold_per_process_when_the_shared_cache_is_unreachable(
    client, manager, django_capture_on_commit_callbacks
):
    unreachable = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
    with (
        override_settings(CACHES={**settings.CACHES, THROTTLE_CACHE_ALIAS: unreachable}),
        django_capture_on_commit_callbacks(execute=True),
    ):
        responses = [request_reset(client, manager.email) for _ in range(RESET_MAILS_PER_ADDRESS + 2)]
    assert {r.status_code for r in responses} == {302}
    assert len(mail.outbox) == RESET_MAILS_PER_ADDRESS


def test_with_a_real_broker_the_request_only_queues_the_task_and_the_worker_sends_the_mail(
    client, manager, django_capture_on_commit_callbacks
):
    queue = "test-password-reset"
    broker = redis.Redis.from_url(REDIS_URL)
    broker.delete(queue)
    with celery_broker(REDIS_URL) as app:
        app.conf.task_default_queue = queue
        with django_capture_on_commit_callbacks(execute=True):
            assert request_reset(client, manager.email).status_code == 302
    assert mail.outbox == [], "the request sent the mail itself"
    message = json.loads(broker.lpop(queue))
    assert message["headers"]["task"] == send_password_reset_mail.name
    _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert "user" not in json.dumps(kwargs)  # an address, not a looked-up account
    send_password_reset_mail.apply(kwargs=kwargs)  # what the worker does with the message
    assert [m.to for m in mail.outbox] == [[manager.email]]


def test_with_the_broker_down_the_reset_page_answers_as_always(client, manager, django_capture_on_commit_callbacks):
    with celery_broker("redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(execute=True):
        response = request_reset(client, manager.email)
    assert (response.status_code, response["Location"]) == (302, "/account/password_reset/done/")
    assert mail.outbox == []
