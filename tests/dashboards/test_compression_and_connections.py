"""Pages travel gzip-compressed (the API's JSON does not), and production keeps database connections open."""

import gzip
import json
import os
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.deploy.conftest import ROOT

pytestmark = pytest.mark.django_db


def test_html_pages_are_sent_gzip_compressed_to_browsers_that_accept_it(client, manager, project):
    client.force_login(manager)

    response = client.get(reverse("dashboards:portfolio"), HTTP_ACCEPT_ENCODING="gzip, br")

    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert b"<!DOCTYPE html>" in gzip.decompress(response.content)


def test_api_json_is_sent_as_it_is(client, manager, project):
    client.force_login(manager)

    response = client.get("/api/v1/projects/", HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert json.loads(response.content)


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
