"""Managers edit a project's tags on its settings page; its page lists them, linking to the filtered portfolio."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def settings_form(project, **changes):
    return {
        "name": project.name,
        "description": "",
        "owner_contact": "",
        "audit_cadence_days": project.audit_cadence_days,
        **changes,
    }


def test_a_manager_sets_tags_on_the_settings_page_and_the_project_page_lists_them(client, manager, project):
    client.force_login(manager)
    edit = reverse("audits:project-edit", args=[project.slug])

    response = client.post(edit, settings_form(project, tags="Production, fraud team"))

    assert response.status_code == 302
    assert sorted(project.tags.values_list("slug", flat=True)) == ["fraud-team", "production"]
    assert 'value="fraud team, Production"' in client.get(edit).content.decode()
    page = client.get(reverse("audits:project-detail", args=[project.slug])).content.decode()
    assert '?tag=production">Production</a>' in page


def test_a_bad_tag_is_shown_on_the_form_and_nothing_is_saved(client, manager, project):
    client.force_login(manager)

    response = client.post(
        reverse("audits:project-edit", args=[project.slug]), settings_form(project, name="Renamed", tags="ok, !!!")
    )

    assert response.status_code == 200
    assert "tags" in response.context["tags_form"].errors
    project.refresh_from_db()
    assert project.name == "Search ranking" and not project.tags.exists()
