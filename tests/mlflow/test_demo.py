"""The demo on a real MLflow server: seeded through MLflow's client, synced, every link resolving;
and `run_demo` (make run) starting and stopping its MLflow server without leaving a process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from audits.models import Project
from integrations.mlflow import demo, services
from integrations.mlflow.models import Finding, MlflowConnection, SyncRun
from integrations.mlflow.server_process import free_port, port_is_open
from tests.mlflow.scenarios.harness import cites_recurrence

pytestmark = pytest.mark.django_db


def _demo_run_count(server) -> int:
    ids = [server.rest("GET", "experiments/get-by-name", params={"experiment_name": name})["experiment"]
           ["experiment_id"] for name in demo.EXPERIMENTS]  # fmt: skip
    body = server.rest("POST", "runs/search", json={"experiment_ids": ids, "max_results": 1000})
    return len(body.get("runs", []))


def _resolves(server, link: str) -> None:
    """The link opens the server's UI, and the run or model version in its fragment exists there."""
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == server.url, link
    page = requests.get(f"{server.url}{parts.path or '/'}", auth=server.auth, timeout=10)
    assert page.status_code == 200 and "<html" in page.text.lower(), link
    route = [unquote(piece) for piece in parts.fragment.strip("/").split("/")]
    if route[0] == "experiments":
        assert route[2] == "runs", link
        run = server.rest("GET", "runs/get", params={"run_id": route[3]})["run"]
        assert run["info"]["experiment_id"] == route[1], link
    else:
        assert route[0] == "models" and route[2] == "versions", link
        version = server.rest("GET", "model-versions/get", params={"name": route[1], "version": route[3]})
        assert version["model_version"]["version"] == route[3], link


def test_the_demo_on_a_real_server_backs_manual_and_automated_suggestions_with_links_that_resolve(
    mlflow_server, team, manager, rubric
):
    project = Project.objects.create(team=team, name="Churn forecast", slug="churn-forecast")
    call_command("seed_mlflow_demo", tracking_uri=mlflow_server.url)
    connection = MlflowConnection.objects.get(project=project, name=demo.CONNECTION_NAME)
    assert connection.tracking_uri == connection.ui_url == mlflow_server.url
    assert list(SyncRun.objects.filter(connection=connection).values_list("state", flat=True)) == ["succeeded"] * 2

    findings = list(Finding.objects.filter(connection=connection))
    suggested = {f.item_code: f.suggested_status for f in findings if f.result == "pass"}
    assert {"manual", "automated"} <= set(suggested.values()), suggested
    # The job's recurring checks are automated; the data scientist's one-off runs and the single canary stay manual.
    for item in ("model-1", "infra-3", "infra-4", "monitoring-2", "monitoring-4"):
        assert suggested.get(item) == "automated", (item, suggested)
    for item in ("data-2", "model-3", "model-5", "infra-1", "infra-6", "infra-7", "monitoring-7"):
        assert suggested.get(item) == "manual", (item, suggested)
    for finding in findings:
        if finding.suggested_status == "automated":
            assert cites_recurrence(finding.reason), finding.reason
    links = [link for finding in findings for link in finding.links]
    assert links and any("/runs/" in link for link in links) and any("/versions/" in link for link in links)
    for link in set(links):
        _resolves(mlflow_server, link)

    runs = _demo_run_count(mlflow_server)
    call_command("seed_mlflow_demo", tracking_uri=mlflow_server.url)  # a second start: no new runs, one sync more
    assert _demo_run_count(mlflow_server) == runs
    assert SyncRun.objects.filter(connection=connection).count() == 3
    assert MlflowConnection.objects.filter(project=project).count() == 1


def test_a_local_store_uri_is_refused_with_a_sentence_pointing_at_mlflow_server(manager, project):
    for uri in ("sqlite:////tmp/mlflow.db", "file:///tmp/mlruns", "/tmp/mlruns"):
        with pytest.raises(ValidationError, match="mlflow server"):
            services.connection_create(actor=manager, project=project, tracking_uri=uri)


def _session_members(session_id: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session_id and fields[0] != "Z":  # fields: state, ppid, pgrp, session
                members.append(int(entry.name))
    return members


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=1, allow_redirects=False)
    except requests.RequestException:
        return False
    return True


def _start_run_demo(tmp_path: Path) -> tuple[subprocess.Popen, int, int, Path]:
    dashboard, mlflow_port = free_port(), free_port()
    env = {
        **os.environ, "MLAUDIT_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MLFLOW_DEMO_PORT": str(mlflow_port), "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    log = tmp_path / "run_demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "run_demo", f"127.0.0.1:{dashboard}"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return process, dashboard, mlflow_port, log


def _wait(process: subprocess.Popen, log: Path, url: str) -> None:
    deadline = time.monotonic() + 120
    while not _answers(url):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def _stop_and_check(process: subprocess.Popen, log: Path, stop: int, ports: tuple[int, ...]) -> None:
    try:
        process.send_signal(stop)
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not any(port_is_open(port) for port in ports), log.read_text()
    assert _session_members(process.pid) == [], log.read_text()  # run_demo's session: mlflow, uvicorn, seeding
    assert "Stopped mlaudit and the MLflow server." in log.read_text()


def test_run_demo_serves_before_mlflow_is_ready_and_sigterm_stops_both_without_leaving_a_process(tmp_path):
    process, dashboard, mlflow_port, log = _start_run_demo(tmp_path)
    _wait(process, log, f"http://127.0.0.1:{dashboard}/healthz")
    assert not _answers(f"http://127.0.0.1:{mlflow_port}/health"), "MLflow takes seconds to start; the dashboard not"
    _wait(process, log, f"http://127.0.0.1:{mlflow_port}/health")
    assert len(_session_members(process.pid)) >= 3  # run_demo, `mlflow server` and its uvicorn worker
    _stop_and_check(process, log, signal.SIGTERM, (dashboard, mlflow_port))


def test_ctrl_c_while_mlflow_is_still_starting_leaves_no_process(tmp_path):
    process, dashboard, mlflow_port, log = _start_run_demo(tmp_path)
    _wait(process, log, f"http://127.0.0.1:{dashboard}/healthz")
    _stop_and_check(process, log, signal.SIGINT, (dashboard, mlflow_port))
