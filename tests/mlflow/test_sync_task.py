"""The sync task's definition: Celery's retry options and time limit from the settings, redelivery, its imports."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.mlflow import services
from integrations.mlflow.jobs import SyncRetry
from integrations.mlflow.tasks import sync_connection

pytestmark = pytest.mark.django_db


def test_the_sync_task_uses_celerys_own_retry_options_from_the_settings(settings):
    assert sync_connection.autoretry_for == (SyncRetry,)
    assert sync_connection.max_retries == settings.MLAUDIT_MLFLOW_SYNC_MAX_RETRIES
    assert sync_connection.retry_backoff == settings.MLAUDIT_MLFLOW_SYNC_RETRY_BASE
    assert sync_connection.retry_backoff_max == settings.MLAUDIT_MLFLOW_SYNC_RETRY_MAX
    assert sync_connection.retry_jitter is True
    assert sync_connection.acks_late and sync_connection.reject_on_worker_lost
    assert sync_connection.time_limit == settings.MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT


def test_tasks_and_jobs_import_no_services_so_services_can_import_the_tasks():
    for module in ("tasks", "jobs"):
        tree = ast.parse((Path(services.__file__).parent / f"{module}.py").read_text())
        imported = {
            (node.module or "") + "." + alias.name if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not [name for name in imported if "services" in name], (module, imported)


def test_a_killed_worker_is_redelivered_well_within_an_hour_but_never_while_its_sync_may_still_run(settings):
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT < visibility <= 20 * 60
    assert visibility > settings.MLAUDIT_MLFLOW_SYNC_RETRY_MAX


def test_a_visibility_timeout_shorter_than_the_hard_time_limit_is_refused_with_a_sentence():
    env = {**os.environ, "MLAUDIT_MLFLOW_SYNC_TIME_LIMIT": "60", "MLAUDIT_TASK_VISIBILITY_TIMEOUT": "30"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "MLAUDIT_TASK_VISIBILITY_TIMEOUT (30 s) must be longer than a sync's hard time limit (90 s)" in result.stderr
