"""A production deployment without Docker: gunicorn and a Celery worker with DEBUG off,
on PostgreSQL and Redis, driven over HTTP like a browser, a script and an orchestrator would.

The tests run in file order against one deployment started for the module; the last one
stops it and checks both processes exit cleanly.
"""

from __future__ import annotations

import json
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from celery import Celery

from tests.deploy.conftest import REDIS_URL, ROOT, manage

USERNAME = "smoke-operator"
PASSWORD = secrets.token_urlsafe(16)
TEAM_SLUG = "smoke-team"
# What the TLS proxy in front of gunicorn adds to every request it forwards.
VIA_PROXY = {"X-Forwarded-Proto": "https"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = condition()
        except (requests.ConnectionError, OSError):
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def terminate(self) -> None:
        """One SIGTERM, as an orchestrator sends: a second one would make Celery skip its warm shutdown."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)


@dataclass
class Deployment:
    base_url: str
    web: Process
    worker: Process
    env: dict[str, str]
    session: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 10)
        return requests.get(self.base_url + path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 10)
        return requests.post(self.base_url + path, **kwargs)


def _start(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Process:
    log = log_dir / f"{name}.log"
    handle = log.open("wb")
    popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    return Process(name, popen, log)


def _prepare_operator(env: dict[str, str]) -> None:
    """A regular user who manages a team."""
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; from audits.services import team_create; "
        f"user = get_user_model().objects.create_user('{USERNAME}', password='{PASSWORD}'); "
        f"team_create(name='Smoke team', slug='{TEAM_SLUG}', creator=user)",
    )


@pytest.fixture(scope="module")
def deployment(production_database: tuple[str, dict[str, str]], tmp_path_factory) -> Iterator[Deployment]:
    _, env = production_database
    redis.Redis.from_url(REDIS_URL).flushdb()  # no task left over from an interrupted run
    port = _free_port()
    log_dir = tmp_path_factory.mktemp("logs")
    web = _start(
        "gunicorn",
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "--bind", f"127.0.0.1:{port}"],
        {**env, "WEB_CONCURRENCY": "2"},
        log_dir,
    )
    worker = _start(
        "worker",
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker"),
            *("--concurrency", "1", "--hostname", f"smoke-{secrets.token_hex(3)}@%h", "--without-gossip"),
            *("--without-mingle", "--loglevel", "INFO"),
        ],
        {**env, "CELERY_RESULT_BACKEND": REDIS_URL},
        log_dir,
    )
    running = Deployment(f"http://127.0.0.1:{port}", web, worker, env)
    try:
        _prepare_operator(env)  # while gunicorn and the worker boot
        _wait_for(lambda: running.get("/healthz").status_code == 200, timeout=30, what="gunicorn to answer")
        _wait_for(lambda: " ready." in worker.output(), timeout=30, what="the Celery worker to be ready")
        yield running
    finally:
        for process in (web, worker):
            if process.popen.poll() is None:
                process.popen.kill()
                process.popen.wait()


@pytest.fixture(scope="module")
def api_key(deployment: Deployment) -> str:
    printed = manage(deployment.env, "create_api_token", USERNAME).stdout
    match = re.search(r"mla_\S+", printed)
    assert match, f"create_api_token printed no key: {printed!r}"
    return match.group(0)


def test_healthz_answers_probes_by_ip_over_plain_http(deployment):
    for host in ("127.0.0.1", "10.0.0.7:8000"):
        response = deployment.get("/healthz", headers={"Host": host})
        assert response.status_code == 200, host
        assert response.json() == {"status": "ok"}


def test_readyz_says_the_database_and_the_broker_are_reachable(deployment):
    response = deployment.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_pages_over_plain_http_are_redirected_to_https(deployment):
    response = deployment.get("/account/login/")
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://127.0.0.1")


def test_static_files_are_served_hashed_and_compressed(deployment):
    page = deployment.get("/account/login/", headers=VIA_PROXY)
    hashed = re.findall(r"/static/[\w/.-]+\.[0-9a-f]{12}\.css", page.text)
    assert hashed, "the login page links no stylesheet with a hashed name"
    response = deployment.get(hashed[0], headers={**VIA_PROXY, "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "max-age=315360000" in response.headers["Cache-Control"]


def test_an_operator_signs_in_through_the_login_page(deployment):
    form = deployment.get("/account/login/", headers=VIA_PROXY)
    assert form.status_code == 200
    assert form.cookies["csrftoken"]
    assert "Secure" in form.headers["Set-Cookie"]
    csrf_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    # Cookies marked Secure are not sent over http:// by requests, so they are passed by hand.
    signed_in = deployment.post(
        "/account/login/",
        data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token},
        headers={**VIA_PROXY, "Origin": deployment.base_url.replace("http:", "https:")},
        cookies={"csrftoken": form.cookies["csrftoken"]},
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    session = signed_in.cookies["sessionid"]
    home = deployment.get(signed_in.headers["Location"], headers=VIA_PROXY, cookies={"sessionid": session})
    assert home.status_code == 200
    anonymous = deployment.get(signed_in.headers["Location"], headers=VIA_PROXY)
    assert anonymous.status_code == 302
    assert "/account/login/" in anonymous.headers["Location"]
    deployment.session["sessionid"] = session


def test_signed_in_pages_run_only_scripts_the_content_security_policy_allows(deployment):
    assert deployment.session, "the sign-in test above did not sign in"
    for path in ("/", "/projects/", "/teams/"):
        response = deployment.get(path, headers=VIA_PROXY, cookies=deployment.session)
        assert response.status_code == 200, path
        # django-csp names a nonce only on pages whose templates used one.
        allowed = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
        nonce = allowed.group(1) if allowed else None
        for tag in re.findall(r"<script\b[^>]*>", response.text):
            source = re.search(r'\ssrc="([^"]*)"', tag)
            if source:
                assert source.group(1).startswith("/static/"), f"{path}: {tag} loads a script from elsewhere"
            else:
                data_only = 'type="application/json"' in tag
                runs = nonce is not None and f'nonce="{nonce}"' in tag
                assert data_only or runs, f"{path}: inline {tag} has no nonce and would not run"


def test_responses_carry_the_production_security_headers(deployment):
    response = deployment.get("/account/login/", headers=VIA_PROXY)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_a_script_creates_a_project_through_the_api_with_a_token(deployment, api_key):
    response = deployment.post(
        "/api/v1/projects/",
        json={"name": "Fraud model", "team": TEAM_SLUG},
        headers={**VIA_PROXY, "Authorization": f"Token {api_key}"},
    )
    assert response.status_code == 201, response.text[:500]
    assert response.json()["name"] == "Fraud model"
    listed = deployment.get("/api/v1/projects/", headers={**VIA_PROXY, "Authorization": f"Token {api_key}"})
    assert "Fraud model" in listed.text


def test_the_worker_runs_a_task_and_logs_it_as_one_json_line(deployment):
    # Not the current app: shared tasks resolve through the thread's current app, and every later test on
    # this worker would send its tasks here (to a pool the suite closes after each test).
    client = Celery(broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
    try:
        result = client.send_task("config.tasks.ping", headers={"mlaudit_request_id": "smoke-task-1"})
        answer = result.get(timeout=30)
    finally:
        client.close()
    assert answer["pong"] == "ok"
    assert answer["database"] == "ok"

    def task_line() -> dict[str, Any] | None:
        lines = deployment.worker.json_lines()
        return next((x for x in lines if x.get("logger") == "mlaudit.task" and x["task_id"] == result.id), None)

    line = _wait_for(task_line, timeout=10, what="the task's log line")
    assert line["request_id"] == "smoke-task-1"
    assert line["state"] == "SUCCESS"
    assert line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float)


def test_each_request_is_one_json_line_with_its_request_id_and_user(deployment, api_key):
    deployment.get("/api/v1/projects/", headers={**VIA_PROXY, "X-Request-ID": "smoke-req-42"})
    response = deployment.get(
        "/api/v1/projects/",
        headers={**VIA_PROXY, "X-Request-ID": "smoke-req-43", "Authorization": f"Token {api_key}"},
    )
    assert response.headers["X-Request-ID"] == "smoke-req-43"

    def request_lines() -> dict[str, dict[str, Any]]:
        lines = {x.get("request_id"): x for x in deployment.web.json_lines() if x.get("logger") == "mlaudit.request"}
        return lines if {"smoke-req-42", "smoke-req-43"} <= set(lines) else {}

    lines = _wait_for(request_lines, timeout=10, what="the request log lines")
    anonymous, authenticated = lines["smoke-req-42"], lines["smoke-req-43"]
    assert anonymous["status"] == 401
    assert anonymous["user_id"] is None
    assert authenticated["status"] == 200
    assert authenticated["user_id"] is not None
    assert authenticated["path"] == "/api/v1/projects/"
    assert authenticated["level"] == "INFO"
    assert authenticated["duration_ms"] >= 0


def test_gunicorn_and_the_worker_stop_cleanly_on_sigterm(deployment):
    for process in (deployment.web, deployment.worker):
        process.terminate()
    assert deployment.web.popen.wait(timeout=30) == 0, deployment.web.output()[-2000:]
    assert deployment.worker.popen.wait(timeout=30) == 0, deployment.worker.output()[-2000:]
    assert "Traceback" not in deployment.web.output()
    assert "Traceback" not in deployment.worker.output()
