"""Production-mode helpers: scratch PostgreSQL databases and the environment of a real deployment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[2]
SCRATCH_PREFIX = "h_deploy_"
REDIS_URL = os.environ.get("DEPLOY_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
# The variables a deployment sets; anything else from the developer's shell is dropped.
_INHERITED = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH"}


def server_url(database: str) -> str:
    """DATABASE_URL of the test run, pointed at another database on the same server."""
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    return urlunsplit(parts._replace(path=f"/{database}"))


def query(database: str, statement: str | sql.Composed, params: tuple = ()) -> list[tuple]:
    """Run one statement in autocommit mode (CREATE/DROP DATABASE refuse transactions)."""
    with closing(psycopg2.connect(server_url(database))) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


def create_database(label: str) -> str:
    name = f"{SCRATCH_PREFIX}{label}_{secrets.token_hex(4)}"
    query("postgres", sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_database(name: str) -> None:
    assert name.startswith(SCRATCH_PREFIX), name
    query("postgres", sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Environment of a production process: DEBUG off, a real secret, PostgreSQL and Redis."""
    env = {key: value for key, value in os.environ.items() if key in _INHERITED}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        REDIS_URL=REDIS_URL,
        MLAUDIT_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def migrate_and_collect_static(env: dict[str, str]) -> None:
    """What a deployment does before it serves: migrate, and collect the static files meanwhile (compressing
    them takes as long as migrating)."""
    collecting = subprocess.Popen(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    manage(env, "migrate", "--noinput", "-v0")
    output, _ = collecting.communicate(timeout=120)
    assert collecting.returncode == 0, f"collectstatic failed:\n{output}"


@pytest.fixture(scope="session")
def production_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A migrated scratch database with collected static files; yields (name, production env)."""
    name = create_database("smoke")
    try:
        env = production_env(tmp_path_factory.mktemp("production"), DATABASE_URL=server_url(name))
        migrate_and_collect_static(env)
        yield name, env
    finally:
        drop_database(name)
