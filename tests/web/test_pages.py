"""Projects, teams, sign-in, languages and the demo data."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from audits import services
from audits.models import Audit, AuditStatus, Membership, Project, Role, Team
from tests.conftest import PASSWORD


def test_project_list_shows_the_latest_final_score_and_band(submitted, viewer, signed_in):
    content = signed_in(viewer).get("/projects/").content.decode()
    assert "Search ranking" in content
    assert submitted.band_label in content


def test_project_list_search_filters_by_name_and_team(project, team, manager, signed_in):
    Project.objects.create(team=team, name="Fraud alerts", slug="fraud-alerts")
    client = signed_in(manager)
    found = client.get("/projects/?q=fraud").content.decode()
    assert "Fraud alerts" in found and "Search ranking" not in found
    assert "Search ranking" in client.get("/projects/?q=ranking").content.decode()
    assert "No project matches" in client.get("/projects/?q=zzz").content.decode()


def test_project_list_query_count_does_not_grow_with_projects(
    team, manager, rubric, signed_in, django_assert_max_num_queries
):
    for n in range(12):
        project = Project.objects.create(team=team, name=f"Model {n}", slug=f"model-{n}")
        audit = services.audit_start(actor=manager, project=project, rubric=rubric)
        services.audit_submit(actor=manager, audit=audit)
    client = signed_in(manager)
    with django_assert_max_num_queries(10):
        response = client.get("/projects/")
    assert response.content.decode().count("/projects/model-") == 12


def test_manager_creates_and_edits_a_project(team, manager, signed_in):
    client = signed_in(manager)
    response = client.post(
        "/projects/new/", {"team": team.pk, "name": "Price forecast", "audit_cadence_days": 45, "description": ""}
    )
    assert response.status_code == 302
    project = Project.objects.get(name="Price forecast")
    assert response["Location"] == f"/projects/{project.slug}/"
    response = client.post(f"/projects/{project.slug}/edit/", {"name": "Price forecast v2", "audit_cadence_days": 30})
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.audit_cadence_days) == ("Price forecast v2", 30)


def test_project_page_lists_audits_newest_first_and_offers_the_start_form(submitted, manager, rubric, signed_in):
    newer = services.audit_start(actor=manager, project=submitted.project, rubric=rubric)
    content = signed_in(manager).get(f"/projects/{submitted.project.slug}/").content.decode()
    table = content.split('id="audits-heading"')[1]
    assert table.index(f"/audits/{newer.pk}/") < table.index(f"/audits/{submitted.pk}/")
    assert "From the last submitted audit" in content
    assert 'data-testid="latest-score"' in content


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


def test_sign_in_with_the_form_lands_on_the_portfolio(client, manager):
    response = client.post("/account/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_sign_in_is_locked_after_repeated_wrong_passwords(client, manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/account/login/", {"username": manager.username, "password": "wrong"})
    response = client.post("/account/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_and_ends_the_session(manager, signed_in):
    client = signed_in(manager)
    assert client.post("/account/logout/").status_code == 302
    assert client.get("/projects/").status_code == 302


def test_spanish_pages_translate_the_interface_and_the_rubric(draft, editor, rubric, signed_in):
    client = signed_in(editor)
    content = client.get(f"/audits/{draft.pk}/", headers={"accept-language": "es"}).content.decode()
    assert '<html lang="es">' in content
    assert "Puntuación actual" in content
    assert "Manual, documentado y compartido" in content
    item = rubric.items.order_by("section__order", "order").first()
    assert item.localized("title", "es") != item.title
    assert item.localized("title", "es") in content
    assert item.section.localized("title", "es") in content


def test_the_language_switcher_stores_the_choice(manager, signed_in):
    client = signed_in(manager)
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/projects/"})
    assert response.status_code == 302
    assert "Proyectos" in client.get("/projects/").content.decode()


def test_browser_language_is_the_default(manager, signed_in):
    content = signed_in(manager).get("/projects/", headers={"accept-language": "es-ES,es;q=0.9"}).content.decode()
    assert "Nuevo proyecto" in content


@pytest.mark.django_db
def test_seed_demo_creates_a_lived_in_team_once(rubric, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    team = Team.objects.get(slug="demo")
    demo = get_user_model().objects.get(username="demo")
    assert demo.check_password("demo-manager-2026")
    roles = dict(team.memberships.values_list("user__username", "role"))
    assert roles == {"demo": "manager", "demo-editor": "editor", "demo-viewer": "viewer"}
    assert team.projects.count() == 3
    for project in team.projects.all():
        submitted = project.audits.filter(status=AuditStatus.SUBMITTED)
        assert 3 <= submitted.count() <= 5
        dates = sorted(a.submitted_at for a in submitted)
        assert (dates[-1] - dates[0]).days > 180
    bands = set(Audit.objects.filter(status=AuditStatus.SUBMITTED).values_list("band_label", flat=True))
    assert len(bands) >= 4
    assert Audit.objects.filter(project__team=team, status=AuditStatus.DRAFT).count() == 1
    counts = (Team.objects.count(), Project.objects.count(), Audit.objects.count(), get_user_model().objects.count())

    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "nothing seeded" in out.getvalue()
    assert counts == (
        Team.objects.count(),
        Project.objects.count(),
        Audit.objects.count(),
        get_user_model().objects.count(),
    )


@pytest.mark.django_db
def test_seed_demo_final_scores_match_the_scoring_of_their_answers(rubric, settings, tmp_path):
    from audits.selectors import audit_score

    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    for audit in Audit.objects.filter(status=AuditStatus.SUBMITTED):
        assert audit_score(audit=audit).final == audit.final_score


def test_password_reset_mails_a_link_that_opens_the_new_password_form(
    client, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # The mail is sent by a task queued when the request's transaction commits (eager in the test settings).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/password_reset/", {"email": manager.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert manager.username in body
    link = next(line for line in body.splitlines() if "/account/reset/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()


def test_refusals_explain_themselves_in_the_apps_look(project, viewer, outsider, signed_in):
    refused = signed_in(viewer).get(f"/projects/{project.slug}/edit/")
    assert refused.status_code == 403
    assert "Only team managers can edit projects." in refused.content.decode()
    assert 'class="site-header"' in refused.content.decode()
    hidden = signed_in(outsider).get(f"/projects/{project.slug}/")
    assert hidden.status_code == 404
    assert "belongs to a team you are not in" in hidden.content.decode()
