"""A real `mlflow server` for tests and the benchmark: SQLite backend, proxied artifacts, one worker.

Started in its own process group so stopping it (by PID) also stops the uvicorn child it spawns.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

ADMIN_USER = "admin"
ADMIN_PASSWORD = "mlaudit-test-admin-pw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MlflowServer:
    def __init__(
        self, root: Path, *, basic_auth: bool = False, port: int | None = None, env: dict[str, str] | None = None
    ):
        self.root = root
        self.extra_env = env or {}
        self.basic_auth = basic_auth
        self.port = port or free_port()
        self.backend = root / "mlflow.db"
        self.process: subprocess.Popen | None = None
        self.log_path = root / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth(self) -> tuple[str, str] | None:
        return (ADMIN_USER, ADMIN_PASSWORD) if self.basic_auth else None

    def start(self, timeout: float = 120) -> None:
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **self.extra_env}
        command = [
            str(Path(sys.executable).with_name("mlflow")),
            "server",
            "--backend-store-uri", f"sqlite:///{self.backend}",
            "--artifacts-destination", str(self.root / "artifacts"),
            "--serve-artifacts",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--workers", "1",
            # Only this exact Host header: a client using "localhost" gets MLflow's 403 (DNS-rebinding guard).
            "--allowed-hosts", f"127.0.0.1:{self.port}",
        ]  # fmt: skip
        if self.basic_auth:
            config = self.root / "basic_auth.ini"
            config.write_text(
                "[mlflow]\ndefault_permission = READ\n"
                f"database_uri = sqlite:///{self.root / 'auth.db'}\n"
                f"admin_username = {ADMIN_USER}\nadmin_password = {ADMIN_PASSWORD}\n"
                "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
                "grant_default_workspace_access = false\nauth_cache_ttl_seconds = 600\n"
            )
            env.update(MLFLOW_AUTH_CONFIG_PATH=str(config), MLFLOW_FLASK_SERVER_SECRET_KEY="mlaudit-tests")
            command[2:2] = ["--app-name", "basic-auth"]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"mlflow server did not answer /health in {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        pid = self.process.pid
        try:
            os.killpg(pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # whatever is left of the group (the uvicorn child)
        self.process.wait(timeout=5)
        self.process = None

    def kill(self) -> None:
        """Die abruptly, as a crashing server would."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def rest(self, method: str, path: str, **kwargs) -> dict:
        response = requests.request(method, f"{self.url}/api/2.0/mlflow/{path}", auth=self.auth, timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def create_experiment(self, name: str) -> str:
        return str(self.rest("POST", "experiments/create", json={"name": name})["experiment_id"])

    def insert_runs(self, experiment_id: str, count: int, *, metrics_per_run: int = 3, params_per_run: int = 3) -> None:
        """Add many finished runs straight into the server's SQLite store.

        Logging them through the REST API costs about 180 ms a run on this machine (15 minutes for 5,000);
        the server reads these rows exactly as it reads runs it logged itself.
        """
        now = int(time.time() * 1000)
        runs, params, tags, metrics, latest = [], [], [], [], []
        for i in range(count):
            run_id = uuid.uuid4().hex
            start = now - (count - i) * 1000
            runs.append(
                (run_id, f"bulk-{i}", "LOCAL", "bulk", "", "bench", "FINISHED", start, start + 500, "", "active",
                 f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts", int(experiment_id))
            )  # fmt: skip
            params += [(f"p{j}", str((i + j) % 11), run_id) for j in range(params_per_run)]
            tags += [("mlflow.runName", f"bulk-{i}", run_id), ("mlflow.source.git.commit", f"{i % 97:040x}", run_id)]
            for j in range(metrics_per_run):
                value = 0.5 + ((i * 7 + j) % 100) / 1000
                metrics.append((f"m{j}", value, start, run_id, 0, 0))
                latest.append((f"m{j}", value, start, 0, 0, run_id))
        db = sqlite3.connect(self.backend, timeout=30)
        with db:
            db.executemany(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
                "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                runs,
            )
            db.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", params)
            db.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tags)
            db.executemany(
                "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", metrics
            )
            db.executemany(
                "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?,?,?,?,?,?)",
                latest,
            )
        db.close()
