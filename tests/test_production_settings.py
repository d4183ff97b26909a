"""Production settings: no start without a secret key (which may come from a file), database connections kept open."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_mode_without_secret_key_refuses_to_start_with_a_sentence():
    result = run_check({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x" * 60)
    result = run_check({"DEBUG": "false", "SECRET_KEY_FILE": str(secret), "ALLOWED_HOSTS": "example.com"})
    assert result.returncode == 0, result.stderr


def _database_settings(**env: str) -> dict:
    code = (
        "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default'], default=str))"
    )
    environment = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "DATABASE_URL"}}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    output = subprocess.run(
        [sys.executable, "-c", f"import django, json; django.setup(); {code}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_production_keeps_database_connections_and_checks_them_before_reuse(tmp_path):
    production = _database_settings(DEBUG="false", SECRET_KEY="x" * 50, MLAUDIT_VAR_DIR=str(tmp_path))
    tuned = _database_settings(
        DEBUG="false", SECRET_KEY="x" * 50, MLAUDIT_VAR_DIR=str(tmp_path), DATABASE_CONN_MAX_AGE="30"
    )
    development = _database_settings(DEBUG="true", MLAUDIT_VAR_DIR=str(tmp_path))

    assert (production["CONN_MAX_AGE"], production["CONN_HEALTH_CHECKS"]) == (600, True)
    assert tuned["CONN_MAX_AGE"] == 30
    assert development["CONN_MAX_AGE"] == 0
