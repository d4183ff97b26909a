"""The API lists come in pages of the asked size; a page past the end is 404."""

from __future__ import annotations

import pytest

from tests.api.conftest import add_projects

pytestmark = pytest.mark.django_db


def test_lists_are_paginated(client_as, team, manager):
    add_projects(team, 7)
    first = client_as("manager").get("/api/v1/projects/?page_size=3").json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["next"]
    last = client_as("manager").get("/api/v1/projects/?page_size=3&page=3").json()
    assert [p["slug"] for p in last["results"]] == ["model-006"]


def test_a_page_past_the_end_is_404(client_as, project, viewer):
    assert client_as("viewer").get("/api/v1/projects/?page=9").status_code == 404
