"""The per-project freshness windows: defaults, limits refused with the field named in the form, API and services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from audits.models import EVIDENCE_FRESH_MAX_DAYS, EVIDENCE_FRESH_MIN_DAYS
from audits.services import project_update

pytestmark = pytest.mark.django_db

FIELDS = ("evidence_fresh_days_automated", "evidence_fresh_days_manual")


def test_a_new_project_holds_automated_evidence_for_30_days_and_manual_for_90(project):
    assert (project.evidence_fresh_days_automated, project.evidence_fresh_days_manual) == (30, 90)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", [EVIDENCE_FRESH_MIN_DAYS - 1, EVIDENCE_FRESH_MAX_DAYS + 1])
def test_a_window_beyond_the_limits_is_refused_by_the_api_naming_the_field(project, manager, field, value):
    api = APIClient()
    api.force_authenticate(manager)
    response = api.patch(f"/api/v1/projects/{project.slug}/", {field: value}, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    project.refresh_from_db()
    assert getattr(project, field) in (30, 90)


def test_the_api_shows_and_changes_the_windows(project, manager):
    api = APIClient()
    api.force_authenticate(manager)
    body = api.patch(
        f"/api/v1/projects/{project.slug}/", {"evidence_fresh_days_automated": 14, "evidence_fresh_days_manual": 365},
        format="json",
    ).json()  # fmt: skip
    assert (body["evidence_fresh_days_automated"], body["evidence_fresh_days_manual"]) == (14, 365)


@pytest.mark.parametrize("field", FIELDS)
def test_the_services_refuse_the_same_limits(project, manager, field):
    with pytest.raises(ValidationError) as refused:
        project_update(actor=manager, project=project, **{field: EVIDENCE_FRESH_MAX_DAYS + 1})
    assert field in refused.value.error_dict


def test_the_project_form_offers_the_windows_and_refuses_zero_naming_the_field(project, manager):
    client = Client()
    client.force_login(manager)
    url = reverse("audits:project-edit", args=[project.slug])
    assert 'name="evidence_fresh_days_automated"' in client.get(url).content.decode()
    data = {
        "name": project.name,
        "audit_cadence_days": 90,
        "evidence_fresh_days_automated": 0,
        "evidence_fresh_days_manual": 90,
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "evidence_fresh_days_automated" in response.context["form"].errors
    data["evidence_fresh_days_automated"] = 7
    assert client.post(url, data).status_code == 302
    project.refresh_from_db()
    assert project.evidence_fresh_days_automated == 7
