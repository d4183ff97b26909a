"""/healthz and /readyz as an orchestrator sees them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from config.health import READYZ_PATH
from tests.deploy.conftest import REDIS_URL, ROOT

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def real_broker(settings):
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return settings


def test_healthz_answers_without_touching_the_database(client):
    # No `db` fixture: any query here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_probes_need_neither_a_sign_in_nor_a_known_host_name(client, settings, db, real_broker):
    settings.ALLOWED_HOSTS = ["mlaudit.example.com"]
    for path in ("/healthz", "/readyz", "/healthz/"):
        response = client.get(path, HTTP_HOST="10.1.2.3:8000")
        assert response.status_code == 200, path
        assert "login" not in response.get("Location", "")


def test_probe_views_are_marked_public_for_the_sign_in_middleware():
    from config.health import healthz, readyz

    assert healthz.login_required is False
    assert readyz.login_required is False


def test_readyz_is_ok_when_the_database_and_the_broker_answer(client, db, real_broker):
    response = client.get(READYZ_PATH)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_says_the_broker_is_not_needed_when_tasks_run_in_process(client, db, settings):
    settings.CELERY_BROKER_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get(READYZ_PATH)
    assert response.status_code == 200
    assert response.json()["checks"]["broker"].startswith("not used")


def test_readyz_names_an_unreachable_broker_with_a_503(client, db, settings):
    settings.CELERY_BROKER_URL = UNREACHABLE_REDIS
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = client.get(READYZ_PATH)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unreachable")
    assert "127.0.0.1" not in json.dumps(body)  # details go to the log, not to anonymous callers


@pytest.fixture(scope="module")
def unreachable_database_answers() -> dict:
    """/readyz and the shell probe, in one process whose DATABASE_URL points at a closed port."""
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/h_deploy_nowhere",
        "REDIS_URL": REDIS_URL,
        "DEBUG": "true",
    }
    code = (
        "import contextlib, io, json, django; django.setup()\n"
        "from django.test import Client\n"
        "from config.health import main\n"
        "response = Client().get('/readyz')\n"
        "printed = io.StringIO()\n"
        "with contextlib.redirect_stdout(printed):\n"
        "    status = main(['database', 'broker'])\n"
        "print(json.dumps({'code': response.status_code, 'body': response.json(),"
        " 'exit': status, 'printed': printed.getvalue()}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_readyz_names_an_unreachable_database_with_a_503(unreachable_database_answers):
    assert unreachable_database_answers["code"] == 503
    assert unreachable_database_answers["body"]["failing"] == ["database"]
    assert unreachable_database_answers["body"]["checks"]["broker"] == "ok"


def test_the_shell_probe_exits_nonzero_naming_the_failing_part(unreachable_database_answers):
    assert unreachable_database_answers["exit"] == 1
    assert "database: unreachable (OperationalError)" in unreachable_database_answers["printed"]
    assert "broker: ok" in unreachable_database_answers["printed"]


def test_the_ping_task_answers_with_the_database_state(db):
    from config.tasks import ping

    assert ping.apply().get()["database"] == "ok"
