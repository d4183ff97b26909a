"""Project pages that guide: confirmations before a duplicate name or a second draft, the badge snippet."""

from __future__ import annotations

from audits.models import AuditStatus, Project


def test_creating_a_project_with_a_name_the_team_uses_asks_first(signed_in, manager, project):
    client = signed_in(manager)
    response = client.post(
        "/projects/new/", {"team": project.team_id, "name": " search RANKING ", "audit_cadence_days": 90}
    )
    assert response.status_code == 200
    assert "already has a project named “Search ranking”" in response.content.decode()
    assert 'type="checkbox" name="confirm_duplicate"' in response.content.decode()
    assert Project.objects.filter(team=project.team).count() == 1


def test_a_confirmed_duplicate_name_creates_a_second_project_with_its_own_slug(signed_in, manager, project):
    client = signed_in(manager)
    data = {"team": project.team_id, "name": "Search ranking", "audit_cadence_days": 90, "confirm_duplicate": "on"}
    response = client.post("/projects/new/", data)
    assert response.status_code == 302
    assert sorted(Project.objects.values_list("slug", flat=True)) == ["search-ranking", "search-ranking-2"]


def test_a_new_name_is_created_without_a_question(signed_in, manager, project):
    response = signed_in(manager).post(
        "/projects/new/", {"team": project.team_id, "name": "Fraud detection", "audit_cadence_days": 90}
    )
    assert response.status_code == 302


def test_starting_an_audit_while_a_draft_is_open_warns_and_links_the_draft(signed_in, manager, draft):
    client = signed_in(manager)
    url = f"/projects/{draft.project.slug}/audits/new/"
    response = client.post(url, {"rubric": draft.rubric_id, "start_from": "blank"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "already has an open draft" in page and f"/audits/{draft.pk}/" in page
    assert draft.project.audits.count() == 1

    confirmed = client.post(url, {"rubric": draft.rubric_id, "start_from": "blank", "confirm_second_draft": "on"})
    assert confirmed.status_code == 302
    assert draft.project.audits.filter(status=AuditStatus.DRAFT).count() == 2


def test_starting_the_first_draft_asks_nothing(signed_in, manager, project, rubric):
    response = signed_in(manager).post(
        f"/projects/{project.slug}/audits/new/", {"rubric": rubric.pk, "start_from": "blank"}
    )
    assert response.status_code == 302


def test_the_project_page_offers_the_badge_markdown_with_its_absolute_link(signed_in, viewer, project):
    page = signed_in(viewer).get(f"/projects/{project.slug}/").content.decode()
    assert 'value="![ML Test Score](http://testserver/api/v1/projects/search-ranking/badge.svg)"' in page
    assert 'data-copy="badge-snippet"' in page
    assert "Only members of the team see this badge" in page


def test_the_project_form_refuses_a_cadence_outside_one_day_to_ten_years(signed_in, manager, project):
    client = signed_in(manager)
    for days in (0, 100_000):
        response = client.post(
            f"/projects/{project.slug}/edit/", {"name": "Search ranking", "audit_cadence_days": days}
        )
        assert response.status_code == 200
        assert 'id="id_audit_cadence_days"' in response.content.decode() and "errorlist" in response.content.decode()
    project.refresh_from_db()
    assert project.audit_cadence_days == 90


def test_the_service_refuses_the_same_cadences_as_the_form_and_the_api(manager, project):
    import pytest
    from django.core.exceptions import ValidationError

    from audits.services import project_update

    with pytest.raises(ValidationError) as refused:
        project_update(actor=manager, project=project, audit_cadence_days=0)
    assert "audit_cadence_days" in refused.value.message_dict
    assert project_update(actor=manager, project=project, audit_cadence_days=3650).audit_cadence_days == 3650
