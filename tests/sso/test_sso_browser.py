"""Signing in through a real OpenID Connect provider in headless Chromium, through the real redirects."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from audits.models import Membership, OidcIdentity, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
expect.set_options(timeout=10_000)

ALICE = {
    "email": "alice@example.com",
    "email_verified": True,
    "preferred_username": "alice",
    "given_name": "Alice",
    "family_name": "Doe",
}


def start_sign_in(page, live_server, provider) -> None:
    page.goto(f"{live_server.url}/account/login/")
    expect(page.locator("#sso-sign-in")).to_have_text("Sign in with Test ID")
    page.click("#sso-sign-in")
    page.wait_for_url(f"{provider.issuer}/interaction/**")


def sso_sign_in(page, live_server, provider, login: str) -> None:
    """Sign in at the provider's own page and wait until the browser is back at mlaudit."""
    start_sign_in(page, live_server, provider)
    page.fill("#login", login)
    page.fill("#password", "any password")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.startswith(live_server.url) and "/account/sso/callback/" not in url)


def test_a_first_sign_in_creates_the_user_and_makes_them_manager_of_the_mapped_team(sso_page, live_server, sso):
    sso.set_account("alice", **ALICE, groups=["ml-platform-managers"])

    sso_sign_in(sso_page, live_server, sso, "alice")

    assert sso_page.url == f"{live_server.url}/"
    expect(sso_page.locator(".user-menu__name")).to_have_text("alice")
    user = get_user_model().objects.get(username="alice")
    assert (user.email, user.first_name, user.last_name) == ("alice@example.com", "Alice", "Doe")
    assert not user.has_usable_password()
    assert OidcIdentity.objects.filter(user=user, issuer=sso.issuer, subject="alice").exists()
    membership = Membership.objects.get(user=user, team__slug="ml-platform")
    assert (membership.role, membership.group_role, membership.hand_role) == (Role.MANAGER, Role.MANAGER, "")

    sso_page.goto(f"{live_server.url}/teams/ml-platform/")
    expect(sso_page.locator("[data-role-source=group]")).to_have_text("From provider group ml-platform-managers")
