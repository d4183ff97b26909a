"""Shared fixtures: a team with a manager, an editor and a viewer; an outsider; staff."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from audits.models import Membership, Project, Role, Team
from rubric.models import Rubric
from rubric.selectors import BUILTIN_SLUG

PASSWORD = "correct-horse-battery-staple"


def make_user(username: str, **extra: object):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


@pytest.fixture
def rubric(db) -> Rubric:
    return Rubric.objects.get(slug=BUILTIN_SLUG, version="2017")


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(name="Ranking", slug="ranking")


@pytest.fixture
def manager(team):
    user = make_user("mara")
    Membership.objects.create(team=team, user=user, role=Role.MANAGER)
    return user


@pytest.fixture
def editor(team):
    user = make_user("eddie")
    Membership.objects.create(team=team, user=user, role=Role.EDITOR)
    return user


@pytest.fixture
def viewer(team):
    user = make_user("vera")
    Membership.objects.create(team=team, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def outsider(db):
    other = Team.objects.create(name="Elsewhere", slug="elsewhere")
    user = make_user("otto")
    Membership.objects.create(team=other, user=user, role=Role.MANAGER)
    return user


@pytest.fixture
def staff(db):
    return make_user("stella", is_staff=True)


@pytest.fixture
def project(team) -> Project:
    return Project.objects.create(team=team, name="Search ranking", slug="search-ranking")
