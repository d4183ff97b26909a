"""SSO configuration: the environment variables, `manage.py check`, the sign-in page, local passwords, URLs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from audits.api.tokens import api_token_create
from audits.sso import discovery
from audits.sso.checks import oidc_issuer_check
from config.oidc import GroupRoleRule, oidc_from_env, parse_group_roles
from tests.conftest import PASSWORD
from tests.sso.conftest import oidc_config
from tests.sso.provider import CLIENT_ID, CLIENT_SECRET

ROOT = Path(__file__).resolve().parents[2]


def from_env(values: dict[str, str]):
    return oidc_from_env(
        lambda name: values.get(name, ""),
        read_bool=lambda name, default: values.get(name, str(default)).lower() in ("1", "true", "yes", "on"),
        read_float=lambda name, default: float(values.get(name, default)),
    )


def test_without_an_issuer_single_sign_on_is_off():
    assert from_env({}) is None


def test_four_variables_configure_single_sign_on_with_sensible_defaults():
    config = from_env(
        {
            "MLAUDIT_OIDC_ISSUER": "https://id.example.com/realms/acme/",
            "MLAUDIT_OIDC_CLIENT_ID": "mlaudit",
            "MLAUDIT_OIDC_CLIENT_SECRET": "s3cret",
            "MLAUDIT_OIDC_GROUP_ROLES": "ml-platform-managers=ml-platform:manager; ml-platform=ml-platform:viewer",
        }
    )
    assert config.issuer == "https://id.example.com/realms/acme"
    assert config.discovery_url == "https://id.example.com/realms/acme/.well-known/openid-configuration"
    assert (config.scopes, config.groups_claim, config.username_claim) == (
        ("openid", "email", "profile"),
        "groups",
        "preferred_username",
    )
    assert config.group_roles == (
        GroupRoleRule("ml-platform-managers", "ml-platform", "manager"),
        GroupRoleRule("ml-platform", "ml-platform", "viewer"),
    )


def test_an_issuer_without_client_credentials_refuses_to_start_with_a_sentence():
    with pytest.raises(ImproperlyConfigured, match="needs MLAUDIT_OIDC_CLIENT_ID and MLAUDIT_OIDC_CLIENT_SECRET"):
        from_env({"MLAUDIT_OIDC_ISSUER": "https://id.example.com"})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ml-platform-managers", "is not of the form group=team-slug:role"),
        ("admins=ml platform:manager", "may contain only letters"),
        ("admins=ml-platform:owner", "must be one of viewer, editor, manager"),
    ],
)
def test_a_malformed_group_mapping_is_refused_with_a_sentence(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_group_roles(text)


def test_group_names_may_contain_equals_signs_and_slashes():
    assert parse_group_roles("/org/ml=ops=ml-ops:editor\n") == (GroupRoleRule("/org/ml=ops", "ml-ops", "editor"),)


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLAUDIT_OIDC")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DATABASE_URL": "sqlite:///:memory:", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_check_accepts_the_environment_of_a_working_provider_with_the_secret_in_a_file(
    oidc_provider, tmp_path
):
    secret = tmp_path / "client-secret"
    secret.write_text(CLIENT_SECRET + "\n")
    env = {
        "MLAUDIT_OIDC_ISSUER": oidc_provider.issuer,
        "MLAUDIT_OIDC_CLIENT_ID": CLIENT_ID,
        "MLAUDIT_OIDC_CLIENT_SECRET_FILE": str(secret),
        "MLAUDIT_OIDC_GROUP_ROLES": "ml-platform-managers=ml-platform:manager",
    }
    result = run_check(env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_manage_py_check_catches_a_misconfigured_issuer_with_a_sentence(oidc_provider):
    # The provider calls itself http://127.0.0.1:<port>; "localhost" reaches it but is another issuer.
    wrong = oidc_provider.issuer.replace("127.0.0.1", "localhost")
    result = run_check(
        {"MLAUDIT_OIDC_ISSUER": wrong, "MLAUDIT_OIDC_CLIENT_ID": CLIENT_ID, "MLAUDIT_OIDC_CLIENT_SECRET": "x"}
    )
    assert result.returncode == 1
    assert f"calls itself “{oidc_provider.issuer}”, not “{wrong}” as MLAUDIT_OIDC_ISSUER says" in result.stderr


def test_the_check_reports_a_wrong_path_an_unreachable_provider_and_a_non_url(settings, oidc_provider):
    settings.MLAUDIT_OIDC = oidc_config(
        oidc_provider, discovery_url=f"{oidc_provider.issuer}/realms/acme/.well-known/openid-configuration"
    )
    assert [(m.id, "answered 404" in m.msg) for m in oidc_issuer_check()] == [("mlaudit.E102", True)]

    settings.MLAUDIT_OIDC = oidc_config(oidc_provider, discovery_url="http://127.0.0.1:9/.well-known/x")
    assert [m.id for m in oidc_issuer_check()] == ["mlaudit.W101"]

    settings.MLAUDIT_OIDC = oidc_config(oidc_provider, issuer="id.example.com")
    with pytest.raises(SystemCheckError, match="is not an http"):
        call_command("check")


def test_plain_http_issuers_are_refused_unless_on_loopback_or_in_debug(settings, oidc_provider):
    settings.DEBUG = False
    settings.MLAUDIT_OIDC = oidc_config(oidc_provider, issuer="http://id.example.com")
    assert "must be reached over https" in oidc_issuer_check()[0].msg


@pytest.mark.django_db
def test_the_sign_in_page_offers_the_provider_by_name_and_the_password_form(client, settings):
    settings.MLAUDIT_OIDC = oidc_config_offline()
    html = client.get("/account/login/").content.decode()
    assert "Sign in with Acme ID" in html
    assert 'name="password"' in html


def oidc_config_offline():
    from config.oidc import OidcConfig

    return OidcConfig(
        issuer="https://id.example.com",
        client_id="c",
        client_secret="s",
        discovery_url="https://id.example.com/.well-known/openid-configuration",
        provider_name="Acme ID",
    )


@pytest.mark.django_db
def test_with_local_passwords_off_no_password_signs_anyone_in_anywhere(client, settings, manager, staff):
    settings.MLAUDIT_OIDC = oidc_config_offline()
    settings.MLAUDIT_LOCAL_PASSWORDS = False

    page = client.get("/account/login/").content.decode()
    assert "Sign in with Acme ID" in page and 'name="password"' not in page
    response = client.post("/account/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/account/password_reset/").status_code == 404
    assert not client.login(username=manager.username, password=PASSWORD)
    staff.is_superuser = True
    staff.save()
    admin = client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})
    assert admin.status_code == 200  # the form again, with an error: not signed in
    assert "_auth_user_id" not in client.session


def test_local_passwords_off_without_single_sign_on_refuses_to_start():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLAUDIT_OIDC")}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "MLAUDIT_LOCAL_PASSWORDS": "false"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "nobody could sign in" in result.stderr


@pytest.mark.django_db
def test_the_old_accounts_addresses_redirect_to_account(client):
    response = client.get("/accounts/login/?next=/projects/")
    assert (response.status_code, response["Location"]) == (301, "/account/login/?next=/projects/")


@pytest.mark.django_db
def test_the_provider_pages_do_not_exist_while_single_sign_on_is_off(client, settings):
    settings.MLAUDIT_OIDC = None
    assert client.get("/account/sso/start/").status_code == 404
    assert client.get("/account/sso/callback/?code=x&state=y").status_code == 404


@pytest.mark.django_db
def test_a_deactivated_users_api_token_stops_working(client, manager):
    _token, key = api_token_create(user=manager, name="script")
    assert client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200

    manager.is_active = False
    manager.save()

    response = client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401


def teardown_module() -> None:
    discovery.forget()


@pytest.mark.django_db
def test_a_callback_the_provider_refused_or_this_browser_never_started_is_a_page_not_an_error(client, settings):
    settings.MLAUDIT_OIDC = oidc_config_offline()

    refused = client.get("/account/sso/callback/?error=access_denied&state=abc")
    assert refused.status_code == 400
    assert "The identity provider did not sign you in (access_denied)." in refused.content.decode()

    stray = client.get("/account/sso/callback/?code=abc&state=def")
    assert stray.status_code == 400
    assert "This sign-in was not started from this browser session" in stray.content.decode()
    assert "_auth_user_id" not in client.session
