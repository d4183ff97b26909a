"""Serve the dashboard with a local MLflow server next to it (make run).

    python manage.py run_demo [HOST:PORT]          # MLFLOW_DEMO_PORT: the MLflow server's port (default: a free one)

Starts `mlflow server` from the installed package in the background (SQLite store and artifacts under
$MLAUDIT_VAR_DIR/mlflow-demo/), serves the dashboard at once, and, once MLflow answers /health, seeds it
and syncs the demo project in a separate process (seed_mlflow_demo). Ctrl-C or SIGTERM stops the
dashboard, the seeding and the MLflow server (each child runs in its own process group, stopped whole).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from integrations.mlflow.server_process import HOST, MlflowServerError, MlflowServerProcess, free_port, port_is_open

PORT_ENV = "MLFLOW_DEMO_PORT"
HEALTH_TIMEOUT = 180.0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # runserver stops on it like on Ctrl-C; the finally clauses stop the children


def _can_bind(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        try:
            sock.bind((host.strip("[]"), port))
        except OSError:
            return False
    return True


def _stop_group(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


class Command(BaseCommand):
    help = "Serve mlaudit with the demo's MLflow server (started, seeded and stopped with it)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="HOST:PORT of the dashboard.")

    def handle(self, *args: Any, **options: Any) -> None:
        host, _, port_text = options["addrport"].rpartition(":")
        host = host or "127.0.0.1"
        if not port_text.isdigit():
            raise CommandError(f"Give the dashboard's address as HOST:PORT, not {options['addrport']!r}.")
        if not _can_bind(host, int(port_text)):
            raise CommandError(f"The dashboard cannot listen on {host}:{port_text}: the port is in use (set PORT=…).")
        # SIGTERM and a closed terminal stop like Ctrl-C. SIGINT too, explicitly: a shell without job control
        # starts background commands with it ignored, and Python then never raises KeyboardInterrupt.
        for stop in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(stop, _interrupt)
        server = self._launch_mlflow()
        seeding = _Seeding(server, self.stdout) if server else None
        try:
            if seeding:
                seeding.start()
            self.stdout.write(f"mlaudit is serving on http://{host}:{port_text}/ (Ctrl-C stops it).")
            # The banner and system checks would be six lines of noise; errors still reach stderr.
            call_command("runserver", f"{host}:{port_text}", use_reloader=False, stdout=io.StringIO())
        finally:
            if seeding:
                seeding.stop()
            if server:
                server.stop()
                self.stdout.write("Stopped mlaudit and the MLflow server.")

    def _launch_mlflow(self) -> MlflowServerProcess | None:
        if importlib.util.find_spec("mlflow") is None:
            self.stdout.write("MLflow is not installed: the demo runs without MLflow evidence.")
            return None
        given = os.environ.get(PORT_ENV, "").strip()
        if given and not given.isdigit():
            raise CommandError(f"{PORT_ENV} must be a port number, not {given!r}.")
        port = int(given) if given else free_port()
        if port_is_open(port):
            raise CommandError(f"Port {port} is in use: set {PORT_ENV} to a free port for the MLflow demo server.")
        root = Path(settings.VAR_DIR) / "mlflow-demo"
        server = MlflowServerProcess(root, port=port, allowed_hosts=[f"{HOST}:{port}", f"localhost:{port}"])
        server.launch()
        self.stdout.write(f"MLflow UI starting on {server.url}/ (store and artifacts in {_shown(root)}/).")
        return server


def _first_error(message: str) -> str:
    """The telling line of a failed start: uvicorn's ERROR line (e.g. the port is taken), else the first."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    errors = [line.split("ERROR:", 1)[1].strip() for line in lines if "ERROR:" in line]
    return f"{lines[0].rstrip(':')}: {errors[-1]}" if errors else lines[0].rstrip(":")


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return str(path)


class _Seeding:
    """Waits for MLflow in a thread, then seeds and syncs in a child process (its imports stay out of the
    dashboard's process, and stopping it is stopping a process group)."""

    def __init__(self, server: MlflowServerProcess, stdout: Any):
        self.server, self.stdout = server, stdout
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="mlflow-demo-seed", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.wait_until_healthy(HEALTH_TIMEOUT)
        except MlflowServerError as exc:
            if not self.stopping.is_set():
                self.stdout.write(f"MLflow demo: {_first_error(str(exc))} (see {_shown(self.server.log_path)}).")
            return
        command = [
            sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "seed_mlflow_demo",
            "--tracking-uri", self.server.url,
        ]  # fmt: skip
        with self.lock:
            if self.stopping.is_set():
                return
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, process_group=0)

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            process = self.process
        _stop_group(process)
