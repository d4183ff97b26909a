"""Scheduled syncs: beat runs the dispatcher, connections are due at night, and a scheduled sync suggests honestly."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from integrations.mlflow import services
from integrations.mlflow.models import Finding, SyncRun, SyncState, SyncTrigger

pytestmark = pytest.mark.django_db


def test_beat_runs_the_dispatcher_that_queues_due_connections():
    entry = django_settings.CELERY_BEAT_SCHEDULE["mlflow-evidence-dispatch-due-syncs"]
    from config.celery import app

    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


def test_a_new_nightly_connection_is_due_at_night(manager, project, settings):
    connection = services.connection_create(actor=manager, project=project, tracking_uri="http://127.0.0.1:9")
    assert connection.schedule == "nightly"
    from django.utils import timezone

    local = timezone.localtime(connection.next_sync_at)
    assert local.hour == settings.MLAUDIT_MLFLOW_NIGHTLY_HOUR and local > timezone.localtime()
    off = services.connection_update(actor=manager, connection=connection, schedule="off")
    assert off.next_sync_at is None


@pytest.mark.usefixtures("quick")
def test_a_scheduled_sync_suggests_the_level_its_evidence_shows_not_automated_for_being_scheduled(
    manager, project, scenario, connect
):
    connection = connect(
        project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model]
    )
    connection.next_sync_at = timezone.now() - timezone.timedelta(minutes=1)
    connection.save()
    queued = services.syncs_dispatch_due()
    assert len(queued) == 1
    services.sync_execute(sync_id=queued[0], final_attempt=True)
    sync = SyncRun.objects.get(pk=queued[0])
    assert sync.trigger == SyncTrigger.SCHEDULE and sync.state == SyncState.SUCCEEDED, sync.error
    suggestions = set(
        Finding.objects.filter(connection=connection, result="pass").values_list("suggested_status", flat=True)
    )
    # Two releases a few days apart, started by hand: done and recorded, no recurrence by a system.
    assert suggestions == {"manual"}
    connection.refresh_from_db()
    assert connection.next_sync_at > timezone.now()
    assert services.syncs_dispatch_due() == []  # not due again until the next night
