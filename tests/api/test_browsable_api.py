"""Users signed in to the site get DRF's browsable API when they ask for HTML."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_signed_in_users_get_the_browsable_api(client, project, viewer):
    client.force_login(viewer)
    response = client.get("/api/v1/projects/search-ranking/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Search ranking" in response.content.decode()
