"""Project tags through the API: set by managers with the project, listed on it, and filtered by `?tag=` on
the project list, the portfolio and the portfolio page (one filter set)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audits.campaigns.services import project_tags_set
from audits.models import Project

pytestmark = pytest.mark.django_db


def test_a_manager_sets_tags_when_creating_and_changing_a_project(client_as, team, manager):
    created = client_as("manager").post(
        "/api/v1/projects/", {"name": "Fraud", "team": "ranking", "tags": ["Production", "fraud"]}, format="json"
    )
    assert created.status_code == 201 and created.json()["tags"] == ["fraud", "production"]

    patched = client_as("manager").patch("/api/v1/projects/fraud/", {"tags": ["batch"]}, format="json")
    assert patched.status_code == 200 and patched.json()["tags"] == ["batch"]
    assert client_as("viewer").get("/api/v1/projects/fraud/").json()["tags"] == ["batch"]


def test_bad_tags_are_a_400_naming_tags_and_change_nothing(client_as, project, manager):
    project_tags_set(actor=manager, project=project, names=["kept"])
    for tags in (["!!!"], ["x" * 51], [f"t{n}" for n in range(21)]):
        response = client_as("manager").patch(
            f"/api/v1/projects/{project.slug}/", {"tags": tags, "name": "Renamed"}, format="json"
        )
        assert response.status_code == 400 and "tags" in response.json()["error"]["fields"], tags
    project.refresh_from_db()
    assert project.name == "Search ranking" and [t.slug for t in project.tags.all()] == ["kept"]


def test_an_editor_cannot_change_tags(client_as, project):
    response = client_as("editor").patch(f"/api/v1/projects/{project.slug}/", {"tags": ["mine"]}, format="json")
    assert response.status_code == 403


def test_tag_filters_the_api_lists_and_the_portfolio_page_alike(client_as, client, project, manager):
    tagged = Project.objects.create(team=project.team, name="Tagged", slug="tagged")
    project_tags_set(actor=manager, project=tagged, names=["production"])

    projects = client_as("manager").get("/api/v1/projects/?tag=production").json()["results"]
    portfolio = client_as("manager").get("/api/v1/portfolio/?tag=production").json()["results"]
    client.force_login(manager)
    page = client.get(reverse("dashboards:portfolio"), {"tag": "production"}).context["lines"]

    assert [row["slug"] for row in projects] == ["tagged"]
    assert [row["project"]["slug"] for row in portfolio] == ["tagged"]
    assert [line["slug"] for line in page] == ["tagged"]
    assert client_as("manager").get("/api/v1/projects/?tag=none").json()["results"] == []


def test_project_list_queries_do_not_grow_with_tagged_projects(client_as, team, manager, django_assert_max_num_queries):
    client = client_as("manager")
    for n in range(3):
        project = Project.objects.create(team=team, name=f"M{n}", slug=f"m{n}")
        project_tags_set(actor=manager, project=project, names=["a", f"b{n}"])
    client.get("/api/v1/projects/")
    with django_assert_max_num_queries(8) as few:
        client.get("/api/v1/projects/")
    for n in range(3, 15):
        project = Project.objects.create(team=team, name=f"M{n}", slug=f"m{n}")
        project_tags_set(actor=manager, project=project, names=["a", f"b{n}"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/projects/").json()["results"]) == 15
