"""/api/v1/projects/{slug}/trend/: a project's submitted audits, oldest first, with their section scores."""

from __future__ import annotations

import pytest

from audits.services import audit_start
from tests.api.conftest import KNOWN_SECTIONS

pytestmark = pytest.mark.django_db


def test_trend_lists_submitted_audits_oldest_first(client_as, submitted_audit, improved_audit, manager, project):
    audit_start(actor=manager, project=project)  # a draft is not part of the trend
    body = client_as("viewer").get("/api/v1/projects/search-ranking/trend/").json()
    assert [p["audit"] for p in body] == [submitted_audit.pk, improved_audit.pk]
    assert [p["final"] for p in body] == [2.5, 3.0]
    assert body[0]["sections"] == KNOWN_SECTIONS
    assert body[1]["sections"] == {**KNOWN_SECTIONS, "model": 4.5}
    assert body[1]["submitted_by"] == "mara"
