"""Who may change connections and start syncs (managers), who only sees them (viewers, editors), who not even that."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.mlflow.models import SyncRun, SyncTrigger
from tests.mlflow.conftest import api_as, offline_connection, web_as

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick")]


def test_viewers_and_editors_cannot_change_connections_or_start_syncs(editor, viewer, manager, project):
    connection = offline_connection(project, manager)
    for user in (viewer, editor):
        client = api_as(user)
        assert client.post(f"/api/v1/projects/{project.slug}/evidence/sync/").status_code == 403
        assert (
            client.patch(f"/api/v1/mlflow-connections/{connection.pk}/", {"name": "x"}, format="json").status_code
            == 403
        )
        assert client.delete(f"/api/v1/mlflow-connections/{connection.pk}/").status_code == 403
        assert client.get(f"/api/v1/mlflow-connections/{connection.pk}/").status_code == 200


def test_outsiders_cannot_see_connections_or_syncs(outsider, manager, project):
    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    client = api_as(outsider)
    assert client.get(f"/api/v1/mlflow-connections/{connection.pk}/").status_code == 404
    assert client.get(f"/api/v1/evidence-syncs/{sync.pk}/").status_code == 404
    assert client.get(f"/api/v1/projects/{project.slug}/evidence/").status_code == 404


def test_viewer_sees_sync_history_but_not_the_manager_buttons(viewer, manager, project):
    offline_connection(project, manager)
    page = web_as(viewer).get(reverse("mlflow:project-evidence", args=[project.slug]))
    assert page.status_code == 200
    assert reverse("mlflow:sync-trigger", args=[project.slug]).encode() not in page.content
    assert web_as(viewer).post(reverse("mlflow:sync-trigger", args=[project.slug])).status_code == 403
