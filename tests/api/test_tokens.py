"""API tokens: hashed storage, revocation, last use, the profile page and the management command."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from audits.api.tokens import ApiToken, api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_is_stored_only_as_the_hash_of_its_key(viewer):
    token, key = api_token_create(user=viewer, name="nightly CI")
    token.refresh_from_db()
    assert key.startswith(f"mla_{token.prefix}_")
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert key not in stored


def test_a_user_can_hold_several_named_tokens(viewer):
    api_token_create(user=viewer, name="CI")
    api_token_create(user=viewer, name="dashboard export")
    assert sorted(viewer.api_tokens.values_list("name", flat=True)) == ["CI", "dashboard export"]


def test_requests_without_credentials_get_401_with_a_token_challenge(api_client, project):
    response = api_client.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"] == {
        "status": 401,
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
    }


@pytest.mark.parametrize("header", ["Token", "Token mla_nothing", "Token a b", "Token mla_12345678_x"])
def test_malformed_or_unknown_keys_get_401(project, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/projects/").status_code == 401


def test_a_key_with_a_right_prefix_but_wrong_secret_is_refused(viewer, project):
    token, key = api_token_create(user=viewer, name="CI")
    forged = f"mla_{token.prefix}_{'x' * 43}"
    assert bearer(forged).get("/api/v1/projects/").status_code == 401
    assert bearer(key).get("/api/v1/projects/").status_code == 200


def test_a_revoked_token_stops_working_at_once(viewer, project):
    token, key = api_token_create(user=viewer, name="CI")
    assert bearer(key).get("/api/v1/projects/").status_code == 200
    api_token_revoke(user=viewer, token_id=token.pk)
    assert bearer(key).get("/api/v1/projects/").status_code == 401


def test_the_token_of_a_deactivated_user_is_refused(viewer, project):
    _token, key = api_token_create(user=viewer, name="CI")
    viewer.is_active = False
    viewer.save()
    assert bearer(key).get("/api/v1/projects/").status_code == 401


def test_use_records_the_last_used_time_at_most_once_a_minute(viewer, project):
    token, key = api_token_create(user=viewer, name="CI")
    bearer(key).get("/api/v1/projects/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    bearer(key).get("/api/v1/projects/")
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=5))
    bearer(key).get("/api/v1/projects/")
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(seconds=1)
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_nobody_can_revoke_someone_elses_token(viewer, editor):
    token, _key = api_token_create(user=viewer, name="CI")
    with pytest.raises(Exception, match="no such token"):
        api_token_revoke(user=editor, token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_profile_page_creates_a_token_and_shows_its_key_once(client, viewer, project):
    client.force_login(viewer)
    response = client.post("/account/tokens/", {"name": "nightly CI"})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert bearer(key).get("/api/v1/projects/").status_code == 200

    later = client.get("/account/tokens/")
    page = later.content.decode()
    assert key not in page
    assert "nightly CI" in page and key[:12] in page


def test_profile_page_refuses_a_blank_name(client, viewer):
    client.force_login(viewer)
    response = client.post("/account/tokens/", {"name": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_profile_page_revokes_a_token(client, viewer, project):
    token, key = api_token_create(user=viewer, name="old job")
    client.force_login(viewer)
    response = client.post(f"/account/tokens/{token.pk}/revoke/", follow=True)
    assert response.status_code == 200
    assert "Revoked on" in response.content.decode()
    assert bearer(key).get("/api/v1/projects/").status_code == 401


def test_profile_page_does_not_revoke_someone_elses_token(client, viewer, editor):
    token, _key = api_token_create(user=editor, name="theirs")
    client.force_login(viewer)
    client.post(f"/account/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is None


def test_profile_page_needs_sign_in(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]


def test_command_prints_a_working_key_once(viewer, project):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "vera", "--name", "release job", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert ApiToken.objects.get(user=viewer).name == "release job"
    assert "cannot be shown again" in err.getvalue()
    assert bearer(key).get("/api/v1/projects/").status_code == 200


def test_command_fails_with_a_sentence_for_an_unknown_user(db):
    with pytest.raises(CommandError, match="There is no user named “nobody”"):
        call_command("create_api_token", "nobody")


def test_the_user_menu_links_to_the_token_page(client, viewer):
    client.force_login(viewer)
    page = client.get("/account/tokens/").content.decode()
    assert 'href="/account/tokens/"' in page
