"""/api/v1/rubrics/: the built-in rubric's versions, points, bands, sections and guidance, in the asked language."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_rubric_list_shows_the_builtin_version_with_points_and_bands(client_as, rubric):
    body = client_as("viewer").get("/api/v1/rubrics/").json()
    (row,) = [r for r in body["results"] if r["slug"] == "ml-test-score"]
    assert row["version"] == "2017"
    assert row["points"] == {"not_done": 0.0, "manual": 0.5, "automated": 1.0}
    assert [b["label"] for b in row["bands"]][:2] == ["Research project", "Serious gaps"]


def test_rubric_detail_lists_four_sections_of_seven_items_with_guidance(client_as, rubric):
    body = client_as("viewer").get("/api/v1/rubrics/ml-test-score/").json()
    assert body["versions"] == ["2017"]
    assert [s["key"] for s in body["sections"]] == ["data", "model", "infra", "monitoring"]
    assert [len(s["items"]) for s in body["sections"]] == [7, 7, 7, 7]
    first = body["sections"][0]["items"][0]
    assert first["code"] == "data-1" and first["title"] and first["guidance"]


def test_rubric_detail_speaks_the_requested_language(client_as, rubric):
    body = client_as("viewer").get("/api/v1/rubrics/ml-test-score/", HTTP_ACCEPT_LANGUAGE="es").json()
    assert body["title"] == "El ML Test Score"


def test_unknown_rubric_version_is_404(client_as, rubric):
    response = client_as("viewer").get("/api/v1/rubrics/ml-test-score/?version=1999")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404
