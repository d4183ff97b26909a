"""Fixtures for single sign-on: one real OIDC provider per session, mlaudit configured for it, and a browser tab
that may talk to mlaudit and the provider only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audits.sso import discovery
from config.oidc import GroupRoleRule, OidcConfig
from tests.sso.provider import CLIENT_ID, CLIENT_SECRET, OidcTestProvider


@pytest.fixture(scope="session")
def oidc_provider(live_server, tmp_path_factory) -> Iterator[OidcTestProvider]:
    provider = OidcTestProvider(state_dir=tmp_path_factory.mktemp("oidc-provider"), relying_party_url=live_server.url)
    provider.start()
    yield provider
    provider.stop()


def oidc_config(provider: OidcTestProvider, **changes) -> OidcConfig:
    values = {
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "discovery_url": provider.discovery_url,
        "provider_name": "Test ID",
        "scopes": ("openid", "email", "profile", "groups"),
        "timeout": 5.0,
        "group_roles": (
            GroupRoleRule(group="ml-platform-managers", team_slug="ml-platform", role="manager"),
            GroupRoleRule(group="ml-platform", team_slug="ml-platform", role="viewer"),
            GroupRoleRule(group="ranking-editors", team_slug="ranking", role="editor"),
        ),
    }
    values.update(changes)
    return OidcConfig(**values)


@pytest.fixture
def sso(settings, oidc_provider) -> Iterator[OidcTestProvider]:
    """mlaudit signs in through the test provider (whose accounts and faults start empty)."""
    oidc_provider.reset()
    discovery.forget()
    settings.MLAUDIT_OIDC = oidc_config(oidc_provider)
    yield oidc_provider
    oidc_provider.reset()
    discovery.forget()


@pytest.fixture
def sso_page(browser, live_server, oidc_provider):
    """A fresh tab that may load mlaudit and the provider only; the test fails on a page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    problems: list[str] = []
    allowed = (live_server.url, oidc_provider.issuer)

    def only_ours(route):
        if route.request.url.startswith(allowed):
            route.continue_()
        else:
            problems.append(f"outside request: {route.request.url}")
            route.abort()

    context.route("**/*", only_ours)
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.problems = problems
    yield tab
    context.close()
    assert not problems, problems
