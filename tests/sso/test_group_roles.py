"""Provider groups → team roles at each sign-in, kept apart from roles granted by hand (audits/sso/services.py)."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from audits import services
from audits.models import GroupRoleMapping, Membership, OidcIdentity, Role, Team
from audits.sso.services import SignInRefused, sign_in_apply
from config.oidc import GroupRoleRule
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

ISSUER = "https://id.example.com"
RULES = (
    GroupRoleRule(group="ml-platform-managers", team_slug="ml-platform", role="manager"),
    GroupRoleRule(group="ml-platform", team_slug="ml-platform", role="viewer"),
    GroupRoleRule(group="ranking-editors", team_slug="ranking", role="editor"),
)


def sign_in(subject: str = "sub-alice", groups=None, username: str = "alice", **claims):
    claims = {"preferred_username": username, "email": f"{username}@example.com", **claims}
    if groups is not None:
        claims["groups"] = groups
    return sign_in_apply(
        issuer=ISSUER,
        subject=subject,
        claims=claims,
        username_claim="preferred_username",
        groups_claim="groups",
        env_rules=RULES,
    )


def roles(user) -> dict[str, tuple[str, str, str]]:
    return {m.team.slug: (m.role, m.group_role, m.hand_role) for m in Membership.objects.filter(user=user)}


def test_a_group_in_the_environments_mapping_creates_its_team_and_grants_the_role():
    user = sign_in(groups=["ml-platform-managers", "unmapped-group"])

    assert Team.objects.get(slug="ml-platform").name == "Ml platform"
    assert roles(user) == {"ml-platform": (Role.MANAGER, Role.MANAGER, "")}
    assert Membership.objects.get(user=user).group_names == ["ml-platform-managers"]


def test_the_highest_role_wins_when_several_groups_map_to_one_team():
    user = sign_in(groups=["ml-platform", "ml-platform-managers"])

    assert roles(user) == {"ml-platform": (Role.MANAGER, Role.MANAGER, "")}
    assert Membership.objects.get(user=user).group_names == ["ml-platform", "ml-platform-managers"]


def test_a_mapping_made_in_the_admin_grants_its_role_too(team):
    GroupRoleMapping.objects.create(group="search-people", team=team, role=Role.VIEWER)

    user = sign_in(groups=["search-people"])

    assert roles(user) == {team.slug: (Role.VIEWER, Role.VIEWER, "")}


def test_roles_follow_the_groups_at_every_sign_in(team, manager):
    user = sign_in(groups=["ranking-editors", "ml-platform-managers"])
    other_manager = make_user("bob")
    services.membership_set(
        actor=user, team=Team.objects.get(slug="ml-platform"), username_or_email="bob", role=Role.MANAGER
    )

    sign_in(groups=["ml-platform"])

    assert roles(user) == {"ml-platform": (Role.VIEWER, Role.VIEWER, "")}
    assert roles(other_manager) == {"ml-platform": (Role.MANAGER, "", "")}


def test_hand_granted_roles_are_kept_apart_and_untouched(team, manager):
    user = sign_in(groups=[])
    services.membership_set(actor=manager, team=team, username_or_email="alice", role=Role.MANAGER)

    sign_in(groups=["ranking-editors"])
    assert roles(user) == {team.slug: (Role.MANAGER, Role.EDITOR, Role.MANAGER)}
    assert Membership.objects.get(user=user).source == "both"

    sign_in(groups=[])
    assert roles(user) == {team.slug: (Role.MANAGER, "", "")}
    assert Membership.objects.get(user=user).source == "manual"


def test_a_teams_only_manager_keeps_the_role_when_the_group_goes_and_a_warning_says_why(caplog):
    user = sign_in(groups=["ml-platform-managers"])

    with caplog.at_level(logging.WARNING, logger="audits.sso.services"):
        sign_in(groups=[])

    assert roles(user) == {"ml-platform": (Role.MANAGER, Role.MANAGER, "")}
    assert "stays manager of the team 'ml-platform'" in caplog.text


@pytest.mark.parametrize("claim", [None, "ml-platform-managers", ["ml-platform-managers", 7], {"a": 1}])
def test_a_missing_or_malformed_groups_claim_maps_to_no_role_and_says_so_in_the_log(claim, caplog, team, manager):
    user = sign_in(groups=["ranking-editors"])
    with caplog.at_level(logging.WARNING, logger="audits.sso.services"):
        sign_in(groups=claim)

    assert roles(user) == {}
    assert "no roles come from groups" in caplog.text
    assert OidcIdentity.objects.get(user=user).last_groups is None


def test_the_same_email_at_another_subject_is_another_account_never_the_existing_one():
    first = sign_in(subject="sub-1", username="alice", email="shared@example.com")

    second = sign_in(subject="sub-2", username="alice-2", email="shared@example.com")

    assert first != second
    assert set(OidcIdentity.objects.values_list("subject", "user__username")) == {
        ("sub-1", "alice"),
        ("sub-2", "alice-2"),
    }


def test_a_returning_subject_is_found_even_after_changing_username_and_email_at_the_provider():
    first = sign_in(subject="sub-1", username="alice", given_name="Alice", family_name="Doe")

    again = sign_in(subject="sub-1", username="alice.doe", email="alice.doe@example.com")

    assert again == first
    again.refresh_from_db()
    assert (again.username, again.email, again.first_name) == ("alice", "alice.doe@example.com", "Alice")
    assert get_user_model().objects.count() == 1


def test_an_existing_local_username_is_not_taken_over():
    make_user("alice")

    with pytest.raises(SignInRefused, match="not linked to this identity provider"):
        sign_in(groups=["ml-platform-managers"])

    assert not OidcIdentity.objects.exists()


def test_an_administrator_links_an_existing_account_by_adding_its_identity():
    local = make_user("alice")
    OidcIdentity.objects.create(user=local, issuer=ISSUER, subject="sub-alice")

    assert sign_in(groups=["ml-platform-managers"]) == local
    assert roles(local) == {"ml-platform": (Role.MANAGER, Role.MANAGER, "")}


def test_a_manager_cannot_remove_a_role_that_comes_from_a_group_but_can_remove_their_own_grant(team, manager):
    user = sign_in(groups=["ranking-editors"])
    membership = Membership.objects.get(user=user, team=team)

    with pytest.raises(ValidationError, match="through the provider group ranking-editors"):
        services.membership_remove(actor=manager, membership=membership)

    services.membership_set(actor=manager, team=team, username_or_email="alice", role=Role.MANAGER)
    services.membership_remove(actor=manager, membership=membership)
    assert roles(user) == {team.slug: (Role.EDITOR, Role.EDITOR, "")}


def test_the_team_page_shows_which_roles_come_from_groups_and_which_by_hand(client, settings, team, manager):
    from config.oidc import OidcConfig

    settings.MLAUDIT_OIDC = OidcConfig(issuer=ISSUER, client_id="c", client_secret="s", discovery_url=ISSUER)
    sign_in(groups=["ranking-editors"])
    client.force_login(manager)

    html = client.get(f"/teams/{team.slug}/").content.decode()

    assert 'data-role-source="group">From provider group ranking-editors<' in html
    assert 'data-role-source="manual">Granted by hand<' in html
    # No "Remove" for alice: her role goes when the provider stops sending the group.
    assert html.count('class="button button--small button--secondary">Remove<') == 1


def test_two_first_sign_ins_of_one_subject_at_once_make_one_account(transactional_db):
    """Each sign-in runs in its own thread and transaction; the one that loses the race finds the other's user."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    results: list = []

    def one() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(sign_in(groups=["ml-platform-managers"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 2 and results[0] == results[1]
    assert OidcIdentity.objects.count() == get_user_model().objects.count() == 1
