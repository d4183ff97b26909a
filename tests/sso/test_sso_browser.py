"""Signing in through a real OpenID Connect provider in headless Chromium, through the real redirects."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from audits import services
from audits.models import Membership, OidcIdentity, Role
from tests.conftest import PASSWORD, make_user
from tests.sso.conftest import oidc_config

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
    page.wait_for_url(lambda url: url.startswith(live_server.url))


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


def test_a_group_removed_in_the_provider_takes_its_role_away_at_the_next_sign_in(
    sso_page, live_server, sso, team, manager, browser
):
    """alice is a viewer of Ranking by hand and an editor through ranking-editors; leaving the group leaves the
    hand-granted viewer role as it was."""
    sso.set_account("alice", **ALICE, groups=["ranking-editors"])
    sso_sign_in(sso_page, live_server, sso, "alice")
    alice = get_user_model().objects.get(username="alice")
    services.membership_set(actor=manager, team=team, username_or_email="alice", role=Role.VIEWER)
    membership = Membership.objects.get(user=alice, team=team)
    assert (membership.role, membership.group_role, membership.hand_role) == (Role.EDITOR, Role.EDITOR, Role.VIEWER)
    sso_page.goto(f"{live_server.url}/teams/{team.slug}/")
    expect(sso_page.locator("[data-role-source=both]")).to_have_text(
        "Editor from provider group ranking-editors; Viewer granted by hand"
    )

    sso.set_account("alice", **ALICE, groups=[])
    sso_page.context.clear_cookies()
    sso_sign_in(sso_page, live_server, sso, "alice")

    membership.refresh_from_db()
    assert (membership.role, membership.group_role, membership.hand_role) == (Role.VIEWER, "", "")
    assert get_user_model().objects.filter(username="alice").count() == 1


def test_a_tampered_state_is_refused_with_a_page_and_signs_nobody_in(sso_page, live_server, sso, caplog):
    sso.set_account("alice", **ALICE, groups=["ml-platform-managers"])

    def change_state(route):
        # Browsers do not let a test touch requests that follow redirects, so the state is changed on its way
        # out: the provider then returns a state this browser session never issued, as a forged callback would.
        response = route.fetch(max_redirects=0)
        location = response.headers["location"].replace("state=", "state=tampered")
        route.fulfill(response=response, headers={**response.headers, "location": location})

    sso_page.route(f"{live_server.url}/account/sso/start/", change_state)
    sso_sign_in(sso_page, live_server, sso, "alice")

    expect(sso_page.locator("[data-sso-problem]")).to_contain_text("could not be verified")
    assert "state not found in session" in caplog.text
    assert not get_user_model().objects.filter(username="alice").exists()
    sso_page.goto(f"{live_server.url}/projects/")
    assert "/account/login/" in sso_page.url


@pytest.mark.parametrize("fault", ["expired", "wrong_key", "wrong_audience"])
def test_an_id_token_that_is_expired_wrongly_signed_or_for_another_client_is_refused(
    sso_page, live_server, sso, fault, caplog
):
    sso.set_account("alice", **ALICE, groups=["ml-platform-managers"])
    sso.tamper(fault)

    sso_sign_in(sso_page, live_server, sso, "alice")

    expect(sso_page.locator("[data-sso-problem]")).to_contain_text("could not be verified")
    assert not get_user_model().objects.filter(username="alice").exists()
    reasons = {
        "expired": "has expired",
        "wrong_key": "signature does not verify",
        "wrong_audience": "wrong audience",
    }
    assert reasons[fault] in caplog.text


def test_an_unreachable_provider_gets_a_page_that_says_so_and_passwords_still_work(
    sso_page, live_server, sso, settings, manager
):
    settings.MLAUDIT_OIDC = oidc_config(sso, discovery_url="http://127.0.0.1:9/.well-known/openid-configuration")

    sso_page.goto(f"{live_server.url}/account/login/")
    with sso_page.expect_navigation() as navigation:
        sso_page.click("#sso-sign-in")
    assert navigation.value.status == 503
    expect(sso_page.locator("[data-sso-problem]")).to_have_text(
        "The identity provider cannot be reached right now, so signing in through it is not possible."
    )

    sso_page.click("text=Back to the sign-in page")
    sso_page.fill("#id_username", manager.username)
    sso_page.fill("#id_password", PASSWORD)
    sso_page.click("main button[type=submit]")
    expect(sso_page.locator(".user-menu__name")).to_have_text(manager.username)


def test_signing_out_ends_the_provider_session_too(sso_page, live_server, sso):
    sso.set_account("alice", **ALICE, groups=["ml-platform-managers"])
    sso_sign_in(sso_page, live_server, sso, "alice")

    sso_page.click(".user-menu summary")
    sso_page.click("text=Sign out")
    sso_page.wait_for_url(f"{sso.issuer}/session/end**")
    sso_page.click("text=Yes, sign me out")
    sso_page.wait_for_url(f"{live_server.url}/account/login/")

    # The provider asks for the login again: its session ended, not only mlaudit's.
    start_sign_in(sso_page, live_server, sso)
    expect(sso_page.locator("#login")).to_be_visible()


def test_a_deactivated_account_cannot_sign_in_through_the_provider(sso_page, live_server, sso):
    sso.set_account("alice", **ALICE, groups=["ml-platform-managers"])
    sso_sign_in(sso_page, live_server, sso, "alice")
    get_user_model().objects.filter(username="alice").update(is_active=False)
    sso_page.context.clear_cookies()

    sso_sign_in(sso_page, live_server, sso, "alice")

    expect(sso_page.locator("[data-sso-problem]")).to_have_text("Your mlaudit account is deactivated.")


def test_a_username_taken_by_an_unlinked_account_is_refused_not_taken_over(sso_page, live_server, sso, db):
    existing = make_user("alice")
    sso.set_account("alice", **ALICE, groups=["ml-platform-managers"])

    sso_sign_in(sso_page, live_server, sso, "alice")

    expect(sso_page.locator("[data-sso-problem]")).to_contain_text("is not linked to this identity provider")
    assert not OidcIdentity.objects.exists()
    assert not Membership.objects.filter(user=existing, team__slug="ml-platform").exists()
