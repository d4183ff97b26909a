"""The local demo: seed_mlflow_demo logs a real MLflow SQLite store and the local reader syncs it."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from audits.models import Project
from integrations.mlflow.models import Finding, MlflowConnection, SyncRun
from integrations.mlflow.rulebook import RULES

pytestmark = pytest.mark.django_db


def test_seed_mlflow_demo_connects_a_project_to_a_local_store_with_passing_findings(
    tmp_path, settings, team, manager, rubric
):
    settings.MLAUDIT_ALLOW_LOCAL_MLFLOW = True
    project = Project.objects.create(team=team, name="Churn forecast", slug="churn-forecast")
    call_command("seed_mlflow_demo", store=str(tmp_path / "store"))
    connection = MlflowConnection.objects.get(project=project)
    assert connection.tracking_uri.startswith("sqlite:///")
    assert list(SyncRun.objects.filter(connection=connection).values_list("state", flat=True)) == ["succeeded"] * 2
    results = dict(Finding.objects.filter(project=project).values_list("item_code", "result"))
    assert len(results) == len(RULES), results
    assert list(results.values()).count("pass") >= 8, results
    # mlaudit's own observations (the serving model's age, no NaN seen) are facts, never passes.
    assert results["monitoring-4"] != "pass" and results["monitoring-5"] != "pass", results
    call_command("seed_mlflow_demo", store=str(tmp_path / "store"))  # a second run changes nothing
    assert SyncRun.objects.filter(connection=connection).count() == 2


def test_local_stores_are_refused_unless_allowed(settings, manager, project):
    from django.core.exceptions import ValidationError

    from integrations.mlflow import services

    settings.MLAUDIT_ALLOW_LOCAL_MLFLOW = False
    with pytest.raises(ValidationError, match="MLAUDIT_ALLOW_LOCAL_MLFLOW"):
        services.connection_create(actor=manager, project=project, tracking_uri="sqlite:////tmp/mlflow.db")
    settings.MLAUDIT_ALLOW_LOCAL_MLFLOW = True
    with pytest.raises(ValidationError, match="sqlite"):
        services.connection_create(actor=manager, project=project, tracking_uri="file:///tmp/mlruns")
