"""Start and stop a local `mlflow server` from the installed mlflow package (the demo; the tests reuse it).

SQLite backend and proxied artifacts under one folder, one worker, MLflow's background job runner off.
The server runs in its own process group: `mlflow server` spawns a uvicorn child, and stopping the group
stops both, without the terminal's Ctrl-C reaching them before the app has decided to stop them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import requests

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int, host: str = HOST) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url.rstrip('/')}/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def wait_for_health(url: str, timeout: float) -> bool:
    """Poll the server's /health for up to `timeout` seconds (at least once)."""
    deadline = time.monotonic() + timeout
    while not healthy(url):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.25)
    return True


class MlflowServerError(RuntimeError):
    pass


class MlflowServerProcess:
    def __init__(
        self,
        root: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        allowed_hosts: Sequence[str] | None = None,
    ):
        self.root = Path(root)
        self.port = port or free_port()
        self.extra_env = dict(env or {})
        # Only these Host headers: a client using another name gets MLflow's 403 (DNS-rebinding guard).
        self.allowed_hosts = list(allowed_hosts or [f"{HOST}:{self.port}"])
        self.backend = self.root / "mlflow.db"
        self.log_path = self.root / "server.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        return [
            str(Path(sys.executable).with_name("mlflow")),
            "server",
            "--backend-store-uri", f"sqlite:///{self.backend}",
            "--artifacts-destination", str(self.root / "artifacts"),
            "--serve-artifacts",
            "--host", HOST,
            "--port", str(self.port),
            "--workers", "1",
            "--allowed-hosts", ",".join(self.allowed_hosts),
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        # No job runner, and no usage telemetry sent out of this machine.
        quiet = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
        return {**os.environ, **quiet, **self.extra_env}

    def launch(self) -> None:
        """Start the server in the background and return at once (see wait_until_healthy)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), env=self.environment(), stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                process_group=0,
            )  # fmt: skip

    def healthy(self) -> bool:
        return healthy(self.url)

    def wait_until_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise MlflowServerError(f"mlflow server exited early:\n{self.log_tail()}")
            if self.healthy():
                return
            time.sleep(0.25)
        self.stop()
        raise MlflowServerError(f"mlflow server did not answer /health in {timeout:.0f}s:\n{self.log_tail()}")

    def start(self, timeout: float = 120) -> None:
        self.launch()
        self.wait_until_healthy(timeout)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the group, then SIGKILL to whatever is left of it (the uvicorn child)."""
        if self.process is None:
            return
        pid = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
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
