"""Project list, search, create and edit, and the project page."""

from __future__ import annotations

from audits import services
from audits.models import Project


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
