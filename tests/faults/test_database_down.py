"""PostgreSQL unreachable, on a production-mode gunicorn (README "Outages").

What must hold: pages answer a 503 page with a sentence and the API a 503 in its error envelope (never a
500), /healthz stays ok while /readyz names the database; a save cut off mid-way is refused, never
acknowledged and lost; once the database is back the same gunicorn workers serve again, persistent
connections included, and every answer saved before is still there.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import closing

import psycopg2
import pytest
import requests
from django.db import OperationalError

from config.outage import DATABASE_UNREACHABLE, RETRY_AFTER_SECONDS, is_database_outage
from tests.deploy.conftest import query, server_url
from tests.deploy.test_production_smoke import _wait_for
from tests.faults._instance import PROJECT_SLUG, SEEDED_NOTES, Instance

UNREACHABLE_SENTENCE = "cannot reach its database right now"


@pytest.fixture
def database_down(instance: Instance) -> Iterator[Instance]:
    instance.postgres.cut()
    try:
        yield instance
    finally:
        instance.postgres.restore()


def csrf_for(instance: Instance, path: str) -> tuple[dict[str, str], dict[str, str]]:
    """Cookies and headers of a browser that loaded `path` (while the database was up) and now posts."""
    page = instance.page(path)
    assert page.status_code == 200, path
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    cookies = {"sessionid": instance.session, "csrftoken": page.cookies["csrftoken"]}
    headers = {"X-CSRFToken": token, "Origin": instance.base_url.replace("http:", "https:")}
    return cookies, headers


def assert_unreachable_envelope(response: requests.Response) -> None:
    assert response.status_code == 503, response.text[:500]
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    error = response.json()["error"]
    assert error["status"] == 503
    assert error["code"] == DATABASE_UNREACHABLE
    assert UNREACHABLE_SENTENCE in error["message"]


def test_with_the_database_unreachable_pages_answer_a_503_page_with_a_sentence(instance):
    questionnaire = f"/audits/{instance.draft_audit}/"
    cookies, headers = csrf_for(instance, questionnaire)
    login_cookies, login_headers = csrf_for(instance, "/account/login/")
    instance.postgres.cut()
    try:
        for path in ("/", questionnaire):
            response = instance.page(path)
            assert response.status_code == 503, path
            assert response.headers["Content-Type"].startswith("text/html")
            assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
            assert UNREACHABLE_SENTENCE in response.text
            assert "Server Error" not in response.text
        # The questionnaire open in a tab saves as JSON: it gets JSON it can read, keeps the text and retries.
        save = instance.request(
            "POST",
            f"{questionnaire}answers/data-8/",
            json={"status": "manual", "notes": "typed during the outage", "base_version": None},
            cookies=cookies,
            headers={**headers, "Accept": "application/json"},
        )
        assert save.status_code == 503
        assert UNREACHABLE_SENTENCE in save.json()["errors"][0]
        sign_in = instance.request(
            "POST",
            "/account/login/",
            data={
                "username": "drill-editor",
                "password": "whatever",
                "csrfmiddlewaretoken": login_headers["X-CSRFToken"],
            },
            cookies={"csrftoken": login_cookies["csrftoken"]},
            headers={"Origin": login_headers["Origin"]},
        )
        assert sign_in.status_code == 503
        assert UNREACHABLE_SENTENCE in sign_in.text
    finally:
        instance.postgres.restore()
    assert "data-8" not in instance.notes_in_database(instance.draft_audit)


def test_with_the_database_unreachable_the_api_answers_503_in_its_envelope(database_down):
    instance = database_down
    assert_unreachable_envelope(instance.api("GET", "/projects/"))
    assert_unreachable_envelope(instance.api("GET", f"/audits/{instance.submitted_audit}/score/"))
    assert_unreachable_envelope(instance.request("GET", f"/api/v1/projects/{PROJECT_SLUG}/badge.svg"))
    assert_unreachable_envelope(
        instance.api(
            "PATCH",
            f"/audits/{instance.draft_audit}/answers/",
            json=[{"item": "data-9", "status": "manual", "notes": "sent during the outage"}],
        )
    )


def test_with_the_database_unreachable_healthz_is_ok_and_readyz_names_the_database(database_down):
    instance = database_down
    assert instance.request("GET", "/healthz").json() == {"status": "ok"}
    ready = instance.request("GET", "/readyz")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["database"]
    assert ready.json()["checks"]["broker"] == "ok"


def _open_transactions(database: str) -> int:
    """Transactions open in the drill's database, other than the one asking."""
    rows = query(
        "postgres",
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND xact_start IS NOT NULL "
        "AND pid <> pg_backend_pid()",
        (database,),
    )
    return int(rows[0][0])


def _waiting_for_a_lock(database: str) -> bool:
    rows = query(
        "postgres", "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'", (database,)
    )
    return int(rows[0][0]) > 0


def test_a_save_in_flight_when_the_database_is_cut_is_refused_and_not_half_stored(instance):
    before = instance.notes_in_database(instance.draft_audit)
    with closing(psycopg2.connect(server_url(instance.database))) as blocker:
        with blocker.cursor() as cursor:
            # The save locks the audit row first: holding it keeps the save waiting inside its transaction.
            cursor.execute("SELECT id FROM audits_audit WHERE id = %s FOR UPDATE", (instance.draft_audit,))
        with ThreadPoolExecutor(1) as pool:
            sending = pool.submit(
                instance.api,
                "PATCH",
                f"/audits/{instance.draft_audit}/answers/",
                json=[
                    {"item": "data-3", "status": "automated", "notes": "in flight when the database went away"},
                    {"item": "data-1", "status": "not_done", "notes": "overwritten in flight"},
                ],
            )
            _wait_for(lambda: _waiting_for_a_lock(instance.database), timeout=15, what="the save to wait")
            instance.postgres.cut()
            response = sending.result(timeout=30)
        blocker.rollback()  # the save's server side may now run on, but nobody will send its COMMIT
    instance.postgres.restore()
    assert_unreachable_envelope(response)
    _wait_for(lambda: _open_transactions(instance.database) == 0, timeout=15, what="the cut-off save to end")
    assert instance.notes_in_database(instance.draft_audit) == before


def test_saves_racing_a_database_cut_are_acknowledged_only_once_stored(instance):
    # One item per request, so each acknowledged note must be found as sent.
    codes = [
        code
        for (code,) in query(
            instance.database,
            "SELECT i.code FROM rubric_item i JOIN audits_audit a ON a.rubric_id = i.rubric_id WHERE a.id = %s "
            "ORDER BY i.id",
            (instance.draft_audit,),
        )
        if code not in {"data-1", "data-2", "data-3", "data-8", "data-9", "model-1"}
    ][:18]
    run = secrets.token_hex(3)
    questionnaire = f"/audits/{instance.draft_audit}/"
    cookies, headers = csrf_for(instance, questionnaire)

    def save(index: int, code: str) -> tuple[str, str, int]:
        """Alternately through the API and as the questionnaire page saves."""
        notes = f"burst {run} {code}"
        if index % 2:
            response = instance.request(
                "POST",
                f"{questionnaire}answers/{code}/",
                json={"status": "manual", "notes": notes, "base_version": None},
                cookies=cookies,
                headers={**headers, "Accept": "application/json"},
            )
        else:
            response = instance.api(
                "PATCH",
                f"/audits/{instance.draft_audit}/answers/",
                json=[{"item": code, "status": "manual", "notes": notes}],
            )
        return code, notes, response.status_code

    outcomes = []
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(save, index, code) for index, code in enumerate(codes)]
        for done, future in enumerate(as_completed(futures), start=1):
            outcomes.append(future.result())
            if done == 4:
                instance.postgres.cut()
            elif done == 10:
                instance.postgres.restore()
    instance.postgres.restore()

    statuses = [status for _, _, status in outcomes]
    assert set(statuses) <= {200, 503}, statuses
    assert 200 in statuses and 503 in statuses, statuses  # the cut fell in the middle of the saves
    _wait_for(lambda: _open_transactions(instance.database) == 0, timeout=15, what="cut-off saves to end")
    stored = instance.notes_in_database(instance.draft_audit)
    missing = [code for code, notes, status in outcomes if status == 200 and stored.get(code) != notes]
    assert not missing, f"acknowledged but not stored: {missing}"
    assert stored.items() >= SEEDED_NOTES.items()


def test_after_the_database_comes_back_the_same_workers_serve_again(instance):
    offset = instance.log_offset()
    for _ in range(6):  # each web process now holds a persistent connection
        assert instance.api("GET", "/projects/").status_code == 200

    # A short outage nobody noticed: the connections the processes hold are dead all the same.
    instance.postgres.cut()
    instance.postgres.restore()
    assert [instance.api("GET", "/projects/").status_code for _ in range(6)] == [200] * 6

    # A longer one, with requests failing meanwhile.
    instance.postgres.cut()
    assert instance.api("GET", "/projects/").status_code == 503
    assert instance.page("/").status_code == 503
    instance.postgres.restore()
    for _ in range(4):
        assert instance.api("GET", "/projects/").status_code == 200
        assert instance.page("/").status_code == 200
        assert instance.request("GET", "/readyz").status_code == 200

    notes = {
        answer["item"]: answer["notes"]
        for answer in instance.api("GET", f"/audits/{instance.draft_audit}/").json()["answers"]
    }
    assert notes.items() >= SEEDED_NOTES.items()
    assert instance.web.popen.poll() is None
    restarts = [line for line in instance.log_since(offset) if "Booting worker" in line["message"]]
    assert not restarts, "gunicorn replaced a worker"
    # Besides each request's own line (mlaudit.request), one sentence per failed request and no traceback.
    errors = [line for line in instance.log_since(offset) if line["level"] == "ERROR"]
    assert {line["logger"] for line in errors} == {"config.outage", "mlaudit.request"}
    assert not [line for line in errors if "exception" in line], "an outage logged as a crash, with a traceback"


def _as_django_raises(error: psycopg2.Error) -> OperationalError:
    """The exception Django raises for a driver error (django.db.utils.DatabaseErrorWrapper chains it)."""
    wrapped = OperationalError(*error.args)
    wrapped.__cause__ = error
    return wrapped


def test_a_refused_connection_is_an_outage_but_a_cancelled_query_is_not(instance):
    instance.postgres.cut()
    try:
        with pytest.raises(psycopg2.OperationalError) as refused:
            psycopg2.connect(host="127.0.0.1", port=instance.postgres.port, user="postgres", dbname=instance.database)
    finally:
        instance.postgres.restore()
    assert is_database_outage(_as_django_raises(refused.value))
    # A statement the server gave up on (like a deadlock) is mlaudit's problem, not an outage: it stays a 500.
    with closing(psycopg2.connect(server_url(instance.database))) as connection, connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 1")
        with pytest.raises(psycopg2.errors.QueryCanceled) as cancelled:
            cursor.execute("SELECT pg_sleep(1)")
    assert not is_database_outage(_as_django_raises(cancelled.value))
