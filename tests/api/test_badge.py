"""The SVG badge: value, colour by band, visibility and cache headers."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audits.api.badge import BAND_COLOURS, NO_SCORE_COLOUR, band_colour
from audits.models import Project

pytestmark = pytest.mark.django_db


def make_public(project):
    Project.objects.filter(pk=project.pk).update(badge_public=True)


def test_badge_shows_the_latest_final_score_in_its_band_colour(submitted_audit, project):
    make_public(project)
    response = APIClient().get("/api/v1/projects/search-ranking/badge.svg")
    svg = response.content.decode()
    assert svg.startswith("<svg") and "ML Test Score: 2.5" in svg
    # "Reasonably tested" is the fourth of the six built-in bands.
    assert f'fill="{BAND_COLOURS[3]}"' in svg


def test_badge_without_a_submitted_audit_says_so_in_grey(project, draft_audit):
    make_public(project)
    svg = APIClient().get("/api/v1/projects/search-ranking/badge.svg").content.decode()
    assert "no audit yet" in svg and f'fill="{NO_SCORE_COLOUR}"' in svg


def test_public_badge_is_cacheable_and_a_private_one_is_not(client_as, project, viewer):
    private = client_as("viewer").get("/api/v1/projects/search-ranking/badge.svg")
    assert private["Cache-Control"] == "private, no-cache"
    make_public(project)
    public = APIClient().get("/api/v1/projects/search-ranking/badge.svg")
    assert public["Cache-Control"] == "public, max-age=300"


def test_badge_of_an_unknown_project_is_404_json(project):
    response = APIClient().get("/api/v1/projects/nope/badge.svg", HTTP_ACCEPT="image/svg+xml")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_badge_is_not_redirected_to_sign_in(project, client):
    make_public(project)
    response = client.get("/api/v1/projects/search-ranking/badge.svg", HTTP_ACCEPT="image/*")
    assert response.status_code == 200


def test_band_colours_spread_over_any_number_of_bands():
    assert band_colour(0, 6) == BAND_COLOURS[0] and band_colour(5, 6) == BAND_COLOURS[-1]
    assert band_colour(0, 3) == BAND_COLOURS[0] and band_colour(2, 3) == BAND_COLOURS[-1]
    assert band_colour(0, 1) == BAND_COLOURS[-1]
    assert band_colour(None, 6) == NO_SCORE_COLOUR
