"""Asking for a sync: 202 with a sync to follow until its findings are there, and one queued sync at a time."""

from __future__ import annotations

import pytest

from integrations.mlflow import services
from integrations.mlflow.models import SyncRun, SyncTrigger
from integrations.mlflow.ruleset import RULES
from tests.mlflow.conftest import api_as, offline_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick")]


def test_api_sync_answers_202_and_the_sync_can_be_followed(
    manager, viewer, project, connect, scenario, django_capture_on_commit_callbacks
):
    connect(project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model])
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_as(manager).post(f"/api/v1/projects/{project.slug}/evidence/sync/")
    assert response.status_code == 202, response.content
    sync_id = response.json()["sync"]
    assert response.json()["syncs"][0]["state"] == "queued"
    assert len(callbacks) == 1  # the request only queued the task; it runs after the commit
    services.sync_execute(sync_id=sync_id, final_attempt=True)  # what the worker does
    detail = api_as(viewer).get(f"/api/v1/evidence-syncs/{sync_id}/")
    assert detail.status_code == 200
    assert detail.json()["state"] == "succeeded", detail.json()
    assert detail.json()["runs_read"] >= 9 and detail.json()["versions_read"] == 2
    evidence = api_as(viewer).get(f"/api/v1/projects/{project.slug}/evidence/").json()
    assert {"item", "result", "reason", "links", "suggested_status", "synced_at", "source"} <= set(evidence[0])
    assert {finding["source"] for finding in evidence} == {"mlflow"}
    assert len(evidence) == len(RULES)


def test_requesting_a_sync_while_one_is_queued_returns_the_same_sync(manager, project):
    connection = offline_connection(project, manager)
    queued = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    assert services.sync_request(actor=manager, connection=connection).pk == queued.pk
