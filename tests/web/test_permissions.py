"""Every page and every POST endpoint, for every kind of user: anonymous, outsider, viewer, editor, manager, staff.

Anonymous users are sent to sign in; an outsider gets 404 (never learns the project exists); a role that
is too low gets 403 and changes nothing; the roles allowed succeed and their change is visible in the DB.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from audits.models import Audit, AuditStatus, Membership, Project, Role
from tests.conftest import make_user

ROLES = ["anonymous", "outsider", "viewer", "editor", "manager", "staff"]
READ = {"outsider": 404, "viewer": 200, "editor": 200, "manager": 200, "staff": 200}
MANAGE_PAGE = {"outsider": 404, "viewer": 403, "editor": 403, "manager": 200, "staff": 200}
ANY_SIGNED_IN = {"outsider": 200, "viewer": 200, "editor": 200, "manager": 200, "staff": 200}


@dataclass
class World:
    project: Project
    draft: Audit
    item_code: str
    removable: Membership


@pytest.fixture
def world(project, draft, item_code, team) -> World:
    removable = Membership.objects.create(team=team, user=make_user("rita"), role=Role.VIEWER)
    return World(project=project, draft=draft, item_code=item_code, removable=removable)


@dataclass
class Page:
    url: Callable[[World], str]
    expected: dict[str, int]


PAGES: dict[str, Page] = {
    "project-list": Page(lambda w: "/projects/", ANY_SIGNED_IN),
    # The outsider manages a team of their own, so they may create projects there.
    "project-create": Page(
        lambda w: "/projects/new/",
        {"outsider": 200, "viewer": 403, "editor": 403, "manager": 200, "staff": 200},
    ),
    "project-detail": Page(lambda w: f"/projects/{w.project.slug}/", READ),
    "project-edit": Page(lambda w: f"/projects/{w.project.slug}/edit/", MANAGE_PAGE),
    "audit-start": Page(lambda w: f"/projects/{w.project.slug}/audits/new/", MANAGE_PAGE),
    "audit-detail": Page(lambda w: f"/audits/{w.draft.pk}/", READ),
    "audit-submit": Page(lambda w: f"/audits/{w.draft.pk}/submit/", MANAGE_PAGE),
    "audit-history": Page(lambda w: f"/audits/{w.draft.pk}/history/", READ),
    "team-list": Page(lambda w: "/teams/", ANY_SIGNED_IN),
    "team-detail": Page(lambda w: f"/teams/{w.project.team.slug}/", READ),
    "account": Page(lambda w: "/account/", ANY_SIGNED_IN),
    "password-change": Page(lambda w: "/account/password_change/", ANY_SIGNED_IN),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page_name", list(PAGES))
def test_page_answers_each_role_as_its_permissions_say(page_name, role, world, users, signed_in):
    page = PAGES[page_name]
    url = page.url(world)
    response = signed_in(users[role]).get(url)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/account/login/?next=")
    else:
        assert response.status_code == page.expected[role], (url, role)


@dataclass
class Post:
    url: Callable[[World], str]
    data: Callable[[World], dict[str, Any]]
    changed: Callable[[World], bool]
    expected: dict[str, int]
    changes_for: frozenset[str] = frozenset({"manager", "staff"})
    as_json: bool = False


def _answer_saved(w: World) -> bool:
    return w.draft.answers.filter(item__code=w.item_code).exists()


def _project_renamed(w: World) -> bool:
    w.project.refresh_from_db()
    return w.project.name == "Renamed"


MANAGE_POST = {"outsider": 404, "viewer": 403, "editor": 403, "manager": 302, "staff": 302}
ANSWER_POST = {"outsider": 404, "viewer": 403, "editor": 302, "manager": 302, "staff": 302}

POSTS: dict[str, Post] = {
    "project-create": Post(
        lambda w: "/projects/new/",
        lambda w: {"team": w.project.team_id, "name": "Brand new", "audit_cadence_days": 30},
        lambda w: Project.objects.filter(name="Brand new").exists(),
        # The outsider may create projects, but not in this team: the team is not a valid choice.
        {"outsider": 200, "viewer": 403, "editor": 403, "manager": 302, "staff": 302},
    ),
    "project-edit": Post(
        lambda w: f"/projects/{w.project.slug}/edit/",
        lambda w: {"name": "Renamed", "audit_cadence_days": 60},
        _project_renamed,
        MANAGE_POST,
    ),
    "audit-start": Post(
        lambda w: f"/projects/{w.project.slug}/audits/new/",
        lambda w: {"rubric": w.draft.rubric_id, "start_from": "blank", "confirm_second_draft": "on"},
        lambda w: w.project.audits.count() == 2,
        MANAGE_POST,
    ),
    "answer-save-form": Post(
        lambda w: f"/audits/{w.draft.pk}/answers/{w.item_code}/",
        lambda w: {"status": "manual", "notes": "checked", "evidence": "https://example.com/a", "base_version": 0},
        _answer_saved,
        ANSWER_POST,
        frozenset({"editor", "manager", "staff"}),
    ),
    "answer-save-json": Post(
        lambda w: f"/audits/{w.draft.pk}/answers/{w.item_code}/",
        lambda w: {"status": "manual", "notes": "checked", "evidence": [], "base_version": 0},
        _answer_saved,
        {"outsider": 404, "viewer": 403, "editor": 200, "manager": 200, "staff": 200},
        frozenset({"editor", "manager", "staff"}),
        as_json=True,
    ),
    "audit-submit": Post(
        lambda w: f"/audits/{w.draft.pk}/submit/",
        lambda w: {},
        lambda w: Audit.objects.get(pk=w.draft.pk).status == AuditStatus.SUBMITTED,
        MANAGE_POST,
    ),
    "member-set": Post(
        lambda w: f"/teams/{w.project.team.slug}/members/",
        lambda w: {"username_or_email": "rita@example.com", "role": "editor"},
        lambda w: Membership.objects.get(pk=w.removable.pk).role == Role.EDITOR,
        MANAGE_POST,
    ),
    "member-remove": Post(
        lambda w: f"/teams/{w.project.team.slug}/members/{w.removable.pk}/remove/",
        lambda w: {},
        lambda w: not Membership.objects.filter(pk=w.removable.pk).exists(),
        MANAGE_POST,
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("post_name", list(POSTS))
def test_post_endpoint_changes_data_only_for_allowed_roles(post_name, role, world, users, signed_in):
    post = POSTS[post_name]
    client = signed_in(users[role])
    url, data = post.url(world), post.data(world)
    if post.as_json:
        response = client.post(url, json.dumps(data), content_type="application/json")
    else:
        response = client.post(url, data)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/account/login/")
        assert not post.changed(world)
        return
    expected = post.expected[role]
    assert response.status_code == expected, (post_name, role, response.content[:500])
    assert post.changed(world) == (role in post.changes_for), (post_name, role)


@pytest.mark.parametrize(
    "url",
    [
        "/projects/search-ranking/",
        "/projects/search-ranking/edit/",
        "/projects/search-ranking/audits/new/",
        "/teams/ranking/",
    ],
)
def test_outsider_sees_the_same_404_for_a_hidden_project_as_for_a_missing_one(url, project, outsider, signed_in):
    client = signed_in(outsider)
    hidden = client.get(url)
    missing = client.get(url.replace("search-ranking", "no-such-project").replace("ranking/", "no-such-team/"))
    assert hidden.status_code == missing.status_code == 404
    assert b"Search ranking" not in hidden.content


def test_outsider_project_list_and_search_do_not_mention_another_teams_project(project, outsider, signed_in):
    client = signed_in(outsider)
    assert b"Search ranking" not in client.get("/projects/").content
    assert b"Search ranking" not in client.get("/projects/?q=Search").content


def test_viewer_sees_no_answer_form_and_no_submit_button(draft, viewer, signed_in):
    content = signed_in(viewer).get(f"/audits/{draft.pk}/").content.decode()
    assert 'class="answer-form"' not in content
    assert "data-open-submit" not in content
    assert "needs the editor or manager role" in content


def test_editor_can_answer_but_cannot_submit(draft, editor, signed_in):
    content = signed_in(editor).get(f"/audits/{draft.pk}/").content.decode()
    assert 'class="answer-form"' in content
    assert "data-open-submit" not in content


def test_health_probes_and_api_do_not_redirect_to_sign_in(client):
    for url in ["/healthz", "/readyz", "/api/v1/"]:
        response = client.get(url)
        assert not (response.status_code == 302 and "/account/login/" in response.get("Location", "")), url


def test_sign_in_pages_are_public(client):
    for url in ["/account/login/", "/account/password_reset/", "/account/password_reset/done/"]:
        assert client.get(url).status_code == 200, url


def _sample_paths(patterns, prefix=""):
    """A concrete path for every route (converters filled with sample values) with its view."""
    from django.urls import URLPattern, URLResolver
    from django.urls.resolvers import RoutePattern

    for entry in patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # regex routes belong to the admin, which has its own sign-in
        route = str(entry.pattern)
        for converter, sample in (("int", "1"), ("slug", "x"), ("str", "x"), ("path", "x"), ("uuid", "0" * 32)):
            route = re.sub(rf"<{converter}:\w+>", sample, route)
        if isinstance(entry, URLResolver):
            yield from _sample_paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + route, entry.callback


# Views that must work without signing in, outside the prefixes that handle access themselves.
PUBLIC_VIEWS = {
    "LoginView",
    "SignInView",
    # Single sign-on: the redirect to the provider, its callback, and the hop to the provider's sign-out.
    "SignInStartView",
    "CallbackView",
    "provider_sign_out",
    # The old /accounts/… addresses redirect to /account/….
    "RedirectView",
    "PasswordResetView",
    "PasswordResetDoneView",
    "PasswordResetConfirmView",
    "PasswordResetCompleteView",
    "set_language",
    # MLflow signs each registry webhook delivery; the view verifies the signature instead of a session.
    "webhook_receive",
}


def test_every_page_requires_sign_in_unless_it_is_deliberately_public(client, db):
    from django.conf import settings
    from django.urls import get_resolver

    checked = 0
    for path, view in _sample_paths(get_resolver().url_patterns):
        if path.startswith(tuple(settings.SIGN_IN_EXEMPT_PATH_PREFIXES)):
            continue
        name = getattr(view, "view_class", view).__name__
        if not getattr(view, "login_required", True):
            assert name in PUBLIC_VIEWS, f"{path} ({name}) is public; is that intended?"
            continue
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/account/login/?next="), path
        checked += 1
    assert checked >= 15
