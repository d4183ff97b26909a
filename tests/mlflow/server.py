"""A real `mlflow server` for tests and the benchmark: the app's own launcher (server_process), plus
basic auth, REST helpers and bulk inserts for the tests.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import requests

from integrations.mlflow.server_process import MlflowServerProcess, free_port

__all__ = ["ADMIN_PASSWORD", "ADMIN_USER", "MlflowServer", "free_port"]

ADMIN_USER = "admin"
ADMIN_PASSWORD = "mlaudit-test-admin-pw"


class MlflowServer(MlflowServerProcess):
    def __init__(
        self, root: Path, *, basic_auth: bool = False, port: int | None = None, env: dict[str, str] | None = None
    ):
        super().__init__(root, port=port, env=env)
        self.basic_auth = basic_auth

    @property
    def auth(self) -> tuple[str, str] | None:
        return (ADMIN_USER, ADMIN_PASSWORD) if self.basic_auth else None

    def command(self) -> list[str]:
        command = super().command()
        if self.basic_auth:
            command[2:2] = ["--app-name", "basic-auth"]
        return command

    def environment(self) -> dict[str, str]:
        env = super().environment()
        if self.basic_auth:
            self.root.mkdir(parents=True, exist_ok=True)
            config = self.root / "basic_auth.ini"
            config.write_text(
                "[mlflow]\ndefault_permission = READ\n"
                f"database_uri = sqlite:///{self.root / 'auth.db'}\n"
                f"admin_username = {ADMIN_USER}\nadmin_password = {ADMIN_PASSWORD}\n"
                "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
                "grant_default_workspace_access = false\nauth_cache_ttl_seconds = 600\n"
            )
            env.update(MLFLOW_AUTH_CONFIG_PATH=str(config), MLFLOW_FLASK_SERVER_SECRET_KEY="mlaudit-tests")
        return env

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
