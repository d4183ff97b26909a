"""A production-mode mlaudit for the outage drills: gunicorn with DEBUG off, reaching PostgreSQL and Redis
only through proxies the drills can cut (tests/faults/_proxy.py).

The database is a scratch one (migrated, static files collected) as in tests/deploy; it is seeded with a
team, a token, a signed-in session, a submitted audit with a public badge and a draft audit with answers.
The drills read the database directly (not through the proxy) to check that nothing saved was lost.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from tests.deploy.conftest import (
    REDIS_URL,
    create_database,
    drop_database,
    manage,
    migrate_and_collect_static,
    production_env,
    query,
    server_url,
)
from tests.deploy.test_production_smoke import VIA_PROXY, Process, _free_port, _start, _wait_for
from tests.faults._proxy import TcpProxy

TEAM_SLUG = "drill-team"
PROJECT_SLUG = "drill-model"
# Items answered before any drill runs: whatever the drills do, these must still read the same afterwards.
SEEDED_NOTES = {"data-1": "schema written down before the drills", "model-1": "reviewed before the drills"}
ANON_RATE = 6  # anonymous requests per minute, small so a drill can reach the limit quickly
# How long a web process counts API requests in memory after Redis failed, before trying Redis again.
THROTTLE_CACHE_RETRY = 2.0

_SEED = f"""
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from audits.api.tokens import api_token_create
from audits.services import answers_bulk_upsert, audit_start, audit_submit, project_create, team_create

user = get_user_model().objects.create_user("drill-editor", password="{secrets.token_urlsafe(16)}")
team = team_create(name="Drill team", slug="{TEAM_SLUG}", creator=user)
project = project_create(actor=user, team=team, name="Drill model", slug="{PROJECT_SLUG}", badge_public=True)
submitted = audit_start(actor=user, project=project)
answers_bulk_upsert(actor=user, audit=submitted, entries=[
    {{"item": "data-1", "status": "automated"}}, {{"item": "infra-1", "status": "manual"}}])
audit_submit(actor=user, audit=submitted)
draft = audit_start(actor=user, project=project)
answers_bulk_upsert(actor=user, audit=draft, entries=[
    {{"item": code, "status": "manual", "notes": notes}} for code, notes in {SEEDED_NOTES!r}.items()])
_, key = api_token_create(user=user, name="drills")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(json.dumps({{"token": key, "session": session.session_key, "submitted": submitted.pk, "draft": draft.pk}}))
"""


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))


@dataclass
class Instance:
    base_url: str
    web: Process
    database: str
    postgres: TcpProxy
    redis: TcpProxy
    token: str
    session: str
    submitted_audit: int
    draft_audit: int

    def request(self, method: str, path: str, *, client: str | None = None, **kwargs: Any) -> requests.Response:
        """One request as the TLS proxy forwards it; `client` is the address it appended to X-Forwarded-For."""
        headers = {**VIA_PROXY, **kwargs.pop("headers", {})}
        if client:
            headers["X-Forwarded-For"] = client
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 20)
        return requests.request(method, self.base_url + path, headers=headers, **kwargs)

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Token {self.token}", **kwargs.pop("headers", {})}
        return self.request(method, "/api/v1" + path, headers=headers, **kwargs)

    def page(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, cookies={"sessionid": self.session}, **kwargs)

    def notes_in_database(self, audit_id: int) -> dict[str, str]:
        """The audit's saved notes by item code, read from PostgreSQL itself (never through the proxy)."""
        rows = query(
            self.database,
            "SELECT i.code, a.notes FROM audits_answer a JOIN rubric_item i ON i.id = a.item_id WHERE a.audit_id = %s",
            (audit_id,),
        )
        return dict(rows)

    def log_offset(self) -> int:
        return len(self.web.output())

    def log_since(self, offset: int) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.web.output()[offset:].splitlines() if line.startswith("{")]


@contextmanager
def running_instance(tmp_path: Path) -> Iterator[Instance]:
    database = create_database("faults")
    postgres = TcpProxy(urlsplit(server_url(database)).port or 5432)
    redis = TcpProxy(urlsplit(REDIS_URL).port or 6379)
    web: Process | None = None
    try:
        env = production_env(
            tmp_path,
            DATABASE_URL=server_url(database),
            MLAUDIT_API_THROTTLE_ANON=f"{ANON_RATE}/minute",
            MLAUDIT_API_THROTTLE_CACHE_RETRY=str(THROTTLE_CACHE_RETRY),
            # Persistent connections, so the drills show they recover (each request reconnects with 0).
            DATABASE_CONN_MAX_AGE="600",
            DATABASE_CONNECT_TIMEOUT="2",
            # Hashed names as in production, without the compressed copies: they cost CPU and no drill reads them.
            STATICFILES_STORAGE="django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
        )
        migrate_and_collect_static(env)

        port = _free_port()
        web_env = {
            **env,
            "DATABASE_URL": _through(server_url(database), postgres.port),
            "REDIS_URL": _through(REDIS_URL, redis.port),
            "WEB_CONCURRENCY": "2",
        }
        command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "--bind", f"127.0.0.1:{port}"]
        web = _start("gunicorn", command, web_env, tmp_path)
        seeded = json.loads(manage(env, "shell", "-c", _SEED).stdout.strip().splitlines()[-1])
        base_url = f"http://127.0.0.1:{port}"
        _wait_for(lambda: requests.get(base_url + "/readyz", timeout=5).ok, timeout=30, what="gunicorn to be ready")
        yield Instance(
            base_url,
            web,
            database,
            postgres,
            redis,
            token=seeded["token"],
            session=seeded["session"],
            submitted_audit=seeded["submitted"],
            draft_audit=seeded["draft"],
        )
    finally:
        if web is not None and web.popen.poll() is None:
            web.popen.kill()
            web.popen.wait()
        postgres.close()
        redis.close()
        drop_database(database)
