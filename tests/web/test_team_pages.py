"""Team members: adding, removing, the last manager, counts."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from audits.models import Membership, Role
from tests.conftest import PASSWORD


def test_manager_adds_a_member_by_email_and_removes_them(team, manager, signed_in):
    newcomer = get_user_model().objects.create_user(username="nina", email="nina@example.com", password=PASSWORD)
    client = signed_in(manager)
    response = client.post(f"/teams/{team.slug}/members/", {"username_or_email": "NINA@example.com", "role": "editor"})
    assert response.status_code == 302
    membership = Membership.objects.get(team=team, user=newcomer)
    assert membership.role == Role.EDITOR
    assert client.post(f"/teams/{team.slug}/members/{membership.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_adding_an_unknown_user_shows_the_reason(team, manager, signed_in):
    response = signed_in(manager).post(f"/teams/{team.slug}/members/", {"username_or_email": "ghost", "role": "viewer"})
    assert response.status_code == 400
    assert "No single active user has the username or email" in response.content.decode()


def test_the_last_manager_cannot_be_removed(team, manager, signed_in):
    membership = Membership.objects.get(team=team, user=manager)
    response = signed_in(manager).post(f"/teams/{team.slug}/members/{membership.pk}/remove/", follow=True)
    assert "A team needs at least one manager." in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_team_list_counts_all_members_not_only_the_viewer(team, manager, editor, viewer, project, signed_in):
    content = signed_in(viewer).get("/teams/").content.decode()
    assert '<td class="num">3</td>' in content
    assert '<td class="num">1</td>' in content
