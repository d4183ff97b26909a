"""Setting up an MLflow connection in the API and the browser: the field named when refused, the secret never shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.mlflow import services
from integrations.mlflow.models import MlflowConnection
from tests.mlflow.conftest import api_as, web_as
from tests.mlflow.server import ADMIN_PASSWORD, ADMIN_USER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick")]


def test_api_creates_a_connection_and_never_returns_the_secret(manager, project, scenario):
    body = {
        "tracking_uri": scenario.server.url, "ui_url": None, "experiments": [scenario.experiment],
        "registered_models": [scenario.model], "serving_alias": "champion", "schedule": "nightly",
        "auth": {"type": "basic", "username": ADMIN_USER, "password": ADMIN_PASSWORD, "token": None},
    }  # fmt: skip
    response = api_as(manager).post(f"/api/v1/projects/{project.slug}/mlflow-connections/", body, format="json")
    assert response.status_code == 201, response.content
    assert ADMIN_PASSWORD not in response.content.decode()
    assert response.json()["auth"] == {"type": "basic", "username": ADMIN_USER, "has_secret": True}
    stored = MlflowConnection.objects.get(pk=response.json()["id"])
    assert ADMIN_PASSWORD not in stored.secret_encrypted
    listed = api_as(manager).get(f"/api/v1/projects/{project.slug}/mlflow-connections/")
    assert [c["id"] for c in listed.json()] == [stored.pk] and ADMIN_PASSWORD not in listed.content.decode()
    tested = api_as(manager).post(f"/api/v1/mlflow-connections/{stored.pk}/test/")
    assert tested.status_code == 200 and tested.json()["ok"] is True


def test_patch_without_auth_keeps_the_stored_secret(manager, project):
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", auth={"type": "token", "token": "tkn-123"}
    )
    before = connection.secret_encrypted
    response = api_as(manager).patch(f"/api/v1/mlflow-connections/{connection.pk}/", {"name": "renamed"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "renamed"
    connection.refresh_from_db()
    assert connection.secret_encrypted == before
    assert services.client_for(connection).session.headers["Authorization"] == "Bearer tkn-123"


def test_bad_input_is_refused_with_the_field_named(manager, project):
    client = api_as(manager)
    url = f"/api/v1/projects/{project.slug}/mlflow-connections/"
    refused = client.post(url, {"tracking_uri": "http://169.254.169.254/"}, format="json")
    assert refused.status_code == 400 and "tracking_uri" in refused.json()["error"]["fields"]
    local = client.post(url, {"tracking_uri": "sqlite:///tmp/x.db"}, format="json")
    assert local.status_code == 400
    thresholds = client.post(
        url, {"tracking_uri": "http://127.0.0.1:9", "thresholds": {"max_serving_age_days": "old"}}, format="json"
    )
    assert thresholds.status_code == 400 and "thresholds" in thresholds.json()["error"]["fields"]


def test_the_browser_form_refuses_what_the_api_refuses_with_the_field_named(manager, project):
    client = web_as(manager)
    form = {
        "tracking_uri": "http://127.0.0.1:9", "auth_type": "none", "serving_alias": "champion", "schedule": "off",
        "registered_models": "\n".join(f"model-{n}" for n in range(21)),
        "thresholds": '{"max_serving_age_days": "old"}',
    }  # fmt: skip
    response = client.post(reverse("mlflow:connection-create", args=[project.slug]), form)
    assert response.status_code == 200 and not MlflowConnection.objects.filter(project=project).exists()
    errors = response.context["form"].errors
    assert "registered_models" in errors or "thresholds" in errors
    api = api_as(manager).post(
        f"/api/v1/projects/{project.slug}/mlflow-connections/",
        {"tracking_uri": "http://127.0.0.1:9", "registered_models": [f"model-{n}" for n in range(21)]},
        format="json",
    )
    assert api.status_code == 400 and "registered_models" in api.json()["error"]["fields"]
    form["thresholds"] = ""
    again = client.post(reverse("mlflow:connection-create", args=[project.slug]), form)
    assert "20" in " ".join(again.context["form"].errors["registered_models"])


def test_manager_creates_tests_and_syncs_a_connection_in_the_browser(manager, project, scenario):
    client = web_as(manager)
    form = {
        "name": "prod", "tracking_uri": scenario.server.url, "auth_type": "basic", "username": ADMIN_USER,
        "password": ADMIN_PASSWORD, "experiments": scenario.experiment, "registered_models": scenario.model,
        "serving_alias": "champion", "schedule": "nightly", "verify_tls": "on",
    }  # fmt: skip
    response = client.post(reverse("mlflow:connection-create", args=[project.slug]), form)
    assert response.status_code == 302
    connection = MlflowConnection.objects.get(project=project)
    edit_page = client.get(reverse("mlflow:connection-edit", args=[connection.pk])).content.decode()
    assert ADMIN_PASSWORD not in edit_page and connection.secret_encrypted not in edit_page
    tested = client.post(reverse("mlflow:connection-test", args=[connection.pk]), HTTP_ACCEPT="application/json")
    assert tested.json()["ok"] is True
    client.post(reverse("mlflow:sync-trigger", args=[project.slug]))
    history = client.get(reverse("mlflow:sync-history", args=[project.slug]))
    assert history.status_code == 200 and b"data-sync-poll-url" in history.content
    state = client.get(reverse("mlflow:sync-history-json", args=[project.slug])).json()
    assert state["syncs"][0]["connection"] == connection.pk
