"""Production security settings: `check --deploy` is clean; headers and CSP as configured."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from django.template import engines

from config.security import csp_settings, directives_from_header
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
            "CONTENT_SECURITY_POLICY_REPORT_ONLY",
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
        "CONTENT_SECURITY_POLICY_REPORT_ONLY": None,
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


def enforce(settings, header=None):
    settings.CONTENT_SECURITY_POLICY, settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = csp_settings(
        header, report_only=False
    )


def test_every_page_gets_a_content_security_policy_that_allows_only_this_sites_scripts(client, settings):
    enforce(settings)
    policy = client.get("/account/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "https:" not in policy  # no third-party script or style source
    assert "'nonce-" not in policy  # the sign-in page has no inline script, so none is allowed


def test_a_template_with_an_inline_script_gets_a_fresh_nonce_in_the_header_and_the_tag(rf, settings):
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    enforce(settings)
    template = engines["django"].from_string('<script nonce="{{ CSP_NONCE }}"></script>')
    seen = []
    for _ in range(2):
        request = rf.get("/")
        response = CSPMiddleware(lambda r: HttpResponse(template.render(request=r)))(request)
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
        assert response.content.decode() == f'<script nonce="{nonce}"></script>'
        seen.append(nonce)
    assert seen[0] != seen[1]


def test_in_development_the_policy_is_only_reported(client, settings):
    settings.CONTENT_SECURITY_POLICY, settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = csp_settings(
        None, report_only=True
    )
    response = client.get("/account/login/")
    assert "Content-Security-Policy" not in response
    assert "script-src 'self'" in response["Content-Security-Policy-Report-Only"]


def test_an_operator_can_replace_the_policy_with_a_whole_header_or_turn_it_off(client, settings):
    enforce(settings, "default-src 'self'; script-src 'self' 'nonce-{nonce}' https://cdn.example.com")
    assert "default-src 'self'" in client.get("/account/login/")["Content-Security-Policy"]
    assert "https://cdn.example.com" in client.get("/account/login/")["Content-Security-Policy"]
    assert directives_from_header("script-src 'self' 'nonce-{nonce}'")["script-src"][1] != "'nonce-{nonce}'"
    enforce(settings, "")
    assert "Content-Security-Policy" not in client.get("/account/login/")
