"""Production security settings: `check --deploy` is clean; headers and CSP as configured."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from django.template import engines
from django.test import RequestFactory

from config.security import csp_nonce
from tests.deploy.conftest import ROOT, production_env


def run_python(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def production_settings(tmp_path, names: list[str], **overrides: str) -> dict:
    env = production_env(tmp_path, ALLOWED_HOSTS="mlaudit.example.com", **overrides)
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name, None) for name in {names!r}}}, default=str))"
    )
    result = run_python(env, code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_finds_nothing_to_warn_about_under_production_settings(tmp_path):
    env = production_env(tmp_path, ALLOWED_HOSTS="mlaudit.example.com")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_production_turns_on_https_hsts_and_secure_cookies_and_reads_the_database_password_file(tmp_path):
    secret = tmp_path / "db-password"
    secret.write_text("s3cret-from-a-file\n")
    values = production_settings(
        tmp_path,
        [
            "SECURE_SSL_REDIRECT",
            "SECURE_PROXY_SSL_HEADER",
            "SECURE_HSTS_SECONDS",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "X_FRAME_OPTIONS",
            "CSP_REPORT_ONLY",
            "TRUSTED_PROXY_COUNT",
            "DATABASES",
        ],
        DATABASE_PASSWORD_FILE=str(secret),
    )
    assert values.pop("DATABASES")["default"]["PASSWORD"] == "s3cret-from-a-file"
    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "X_FRAME_OPTIONS": "DENY",
        "CSP_REPORT_ONLY": False,
        "TRUSTED_PROXY_COUNT": 1,
    }


def test_the_security_settings_can_be_tuned_from_the_environment(tmp_path):
    values = production_settings(
        tmp_path,
        ["SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD", "SECURE_SSL_REDIRECT", "SECURE_REFERRER_POLICY"],
        SECURE_HSTS_SECONDS="300",
        SECURE_HSTS_PRELOAD="false",
        SECURE_SSL_REDIRECT="false",
        SECURE_REFERRER_POLICY="no-referrer",
    )
    assert values == {
        "SECURE_HSTS_SECONDS": 300,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_REFERRER_POLICY": "no-referrer",
    }


def test_every_page_gets_a_content_security_policy_with_a_fresh_nonce(client, settings):
    settings.CSP_REPORT_ONLY = False
    first = client.get("/account/login/")["Content-Security-Policy"]
    second = client.get("/account/login/")["Content-Security-Policy"]
    nonces = [re.search(r"'nonce-([\w-]+)'", policy).group(1) for policy in (first, second)]
    assert nonces[0] != nonces[1]
    assert "default-src 'self'" in first
    assert "object-src 'none'" in first
    assert "https:" not in first  # no third-party script or style source


def test_in_development_the_policy_is_only_reported(client, settings):
    settings.CSP_REPORT_ONLY = True
    response = client.get("/account/login/")
    assert "Content-Security-Policy" not in response
    assert "script-src 'self'" in response["Content-Security-Policy-Report-Only"]


def test_templates_get_the_request_nonce_for_inline_scripts():
    request = RequestFactory().get("/")
    request.csp_nonce = "n0nce"
    template = engines["django"].from_string('<script nonce="{{ csp_nonce }}"></script>')
    assert template.render(request=request) == '<script nonce="n0nce"></script>'
    assert csp_nonce(RequestFactory().get("/")) == {"csp_nonce": ""}
