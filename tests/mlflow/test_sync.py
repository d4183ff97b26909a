"""Syncing a real MLflow server: facts, findings, idempotence, failures."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from integrations.mlflow import services
from integrations.mlflow.models import Finding, SyncedModelVersion, SyncedRun, SyncRun, SyncState
from integrations.mlflow.selectors import latest_findings
from tests.mlflow.conftest import BIG_EXPERIMENT_RUNS
from tests.mlflow.server import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.MLAUDIT_MLFLOW_HTTP_RETRIES = 1
    settings.MLAUDIT_MLFLOW_HTTP_BACKOFF = 0.05


def run_sync(manager, connection) -> SyncRun:
    sync = services.sync_request(actor=manager, connection=connection)
    services.sync_execute(sync_id=sync.pk, final_attempt=True)
    sync.refresh_from_db()
    return sync


def test_a_release_seen_by_two_syncs_passes_on_what_the_team_did_and_shows_observations_as_facts(
    manager, project, connect, scenario
):
    connection = connect(
        project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model]
    )
    scenario.aliases_before_release()
    first = run_sync(manager, connection)
    assert first.state == SyncState.SUCCEEDED, first.error
    scenario.aliases_after_release()
    try:
        second = run_sync(manager, connection)
    finally:
        scenario.aliases_before_release()
    assert second.state == SyncState.SUCCEEDED, second.error
    assert second.aliases_seen[scenario.model] == {"champion": 2, "previous": 1}
    findings = latest_findings(project=project)
    passing = {code for code, f in findings.items() if f.result == "pass"}
    assert passing == {
        "model-1", "model-3", "model-5", "model-6", "infra-1", "infra-6", "infra-7", "monitoring-6",
    }, {code: f.reason for code, f in findings.items()}  # fmt: skip
    # one person's afternoon of runs: done and recorded, not automated
    assert all(f.suggested_status == "manual" for f in findings.values() if f.result == "pass")
    assert all("Manual:" in f.reason for f in findings.values() if f.result == "pass")
    # val_accuracy logged while fitting is not a validation gate; age and clean metrics are observations
    assert findings["infra-4"].result == "fail"
    assert findings["monitoring-4"].result == "unknown" and findings["monitoring-4"].reason.startswith("Observed:")
    assert findings["monitoring-5"].result == "unknown" and "runs_checked" in findings["monitoring-5"].facts
    v2_link = f"{scenario.server.url}/#/models/{scenario.model}/versions/2"
    assert v2_link in findings["model-1"].links
    run_link = f"{scenario.server.url}/#/experiments/{scenario.experiment_id}/runs/{scenario.v2_run}"
    assert run_link in findings["model-1"].links
    assert "v2" in findings["infra-6"].reason


def test_each_finding_keeps_its_reason_in_every_interface_language(manager, project, connect, scenario):
    connection = connect(
        project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model]
    )
    scenario.aliases_before_release()
    with translation.override("es"):  # whatever language the worker happens to run in
        sync = run_sync(manager, connection)
    assert sync.state == SyncState.SUCCEEDED, sync.error

    finding = latest_findings(project=project)["model-1"]

    # Before the release the champion is v1: the reason is about the serving version.
    assert finding.reasons["en"].startswith("v1 was trained by run ")
    assert finding.reasons["es"].startswith("v1 se entrenó en la ejecución ")
    assert "Manual:" in finding.reasons["en"] and "Manual:" in finding.reasons["es"]
    assert finding.reason == finding.reasons["en"]  # the site's default language
    with translation.override("es"):
        assert finding.localized_reason == finding.reasons["es"]
    with translation.override("en"):
        assert finding.localized_reason == finding.reasons["en"]


def test_a_reader_sees_finding_reasons_in_their_own_language(manager, project, connect, scenario):
    connection = connect(
        project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model]
    )
    scenario.aliases_before_release()
    run_sync(manager, connection)
    client = Client()
    client.force_login(manager)
    url = reverse("mlflow:project-evidence", args=[project.slug])

    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "se entrenó en la ejecución" in spanish and "was trained by run" not in spanish
    assert "was trained by run" in english and "se entrenó en la ejecución" not in english


def test_syncing_twice_stores_each_run_version_and_finding_once(manager, project, connect, scenario):
    connection = connect(
        project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model]
    )
    run_sync(manager, connection)
    counts = (SyncedRun.objects.count(), SyncedModelVersion.objects.count(), Finding.objects.count())
    again = run_sync(manager, connection)
    assert again.state == SyncState.SUCCEEDED
    assert (SyncedRun.objects.count(), SyncedModelVersion.objects.count(), Finding.objects.count()) == counts
    assert counts[0] == again.runs_read >= 9
    assert counts[1] == again.versions_read == 2


def test_a_sync_reads_every_run_of_a_five_thousand_run_experiment(
    manager, project, connect, mlflow_server, big_experiment
):
    connection = connect(project, mlflow_server, experiments=[big_experiment])
    sync = run_sync(manager, connection)
    assert sync.state == SyncState.SUCCEEDED, sync.error
    assert sync.runs_read == BIG_EXPERIMENT_RUNS
    assert SyncedRun.objects.filter(connection=connection).count() == BIG_EXPERIMENT_RUNS


def test_server_down_fails_the_sync_with_the_reason_and_writes_nothing(manager, project, connect, mlflow_server):
    connection = connect(project, mlflow_server, tracking_uri=f"http://127.0.0.1:{free_port()}", experiments=["churn"])
    sync = run_sync(manager, connection)
    assert sync.state == SyncState.FAILED
    assert sync.error_kind == "unreachable"
    assert "Could not reach" in sync.error
    assert not SyncedRun.objects.exists() and not Finding.objects.exists()


def test_a_transient_failure_before_the_last_attempt_asks_for_a_retry(manager, project, connect, mlflow_server):
    connection = connect(project, mlflow_server, tracking_uri=f"http://127.0.0.1:{free_port()}", experiments=["churn"])
    sync = services.sync_request(actor=manager, connection=connection)
    with pytest.raises(services.SyncRetry):
        services.sync_execute(sync_id=sync.pk, final_attempt=False)
    sync.refresh_from_db()
    assert sync.state == SyncState.RUNNING and sync.attempts == 1
    assert sync.error.startswith("Retrying")


def test_wrong_credentials_fail_permanently_without_retrying(manager, project, connect, scenario):
    connection = connect(
        project,
        scenario.server,
        experiments=[scenario.experiment],
        auth={"type": "basic", "username": "admin", "password": "nope"},
    )
    sync = services.sync_request(actor=manager, connection=connection)
    services.sync_execute(sync_id=sync.pk, final_attempt=False)  # not the last attempt, yet no retry is asked for
    sync.refresh_from_db()
    assert sync.state == SyncState.FAILED and sync.error_kind == "auth"
    assert "401" in sync.error


def test_a_missing_experiment_fails_the_sync_with_its_name(manager, project, connect, scenario):
    connection = connect(project, scenario.server, experiments=["does-not-exist"])
    sync = run_sync(manager, connection)
    assert sync.state == SyncState.FAILED and sync.error_kind == "not_found"
    assert "does-not-exist" in sync.error


def test_test_connection_names_each_problem_quickly(manager, project, connect, scenario):
    good = connect(project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model])
    assert services.connection_test(actor=manager, connection=good).ok
    host = connect(project, scenario.server, tracking_uri=f"http://localhost:{scenario.server.port}")
    result = services.connection_test(actor=manager, connection=host)
    assert (result.ok, result.kind) == (False, "host_rejected") and "--allowed-hosts" in result.message
    missing = connect(project, scenario.server, registered_models=["nope-model"])
    result = services.connection_test(actor=manager, connection=missing)
    assert result.kind == "not_found" and "nope-model" in result.message
    down = connect(project, scenario.server, tracking_uri=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    assert services.connection_test(actor=manager, connection=down).kind == "unreachable"
    assert time.monotonic() - started < 5  # no retries in a test: the person is waiting
