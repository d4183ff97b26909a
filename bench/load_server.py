"""gunicorn for the load benchmark: started with production's config/gunicorn.py on a free loopback port.

The environment is a production one (DEBUG off, a secret key, PostgreSQL, Redis for the throttle, JSON
log lines at INFO, one per request) plus the benchmark's settings module, which only adds the bare
signed-in view (bench/load_urls.py). The log goes to a file, read at the end for error lines.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 60.0
_INHERITED = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def worker_pids(self) -> list[int]:
        return sorted(child_pids(self.process.pid))

    def log_records(self) -> list[dict[str, object]]:
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def server_times(self, prefix: str) -> dict[str, list[float]]:
        """Time in the worker (the app's request log line) of the requests whose id starts with `prefix`, by
        request type: without the wait for a free worker, which the client's time includes."""
        times: dict[str, list[float]] = {}
        for record in self.log_records():
            request_id = str(record.get("request_id", ""))
            if request_id.startswith(prefix) and "duration_ms" in record:
                kind = request_id[len(prefix) :].split(".", 1)[0].replace("_", " ")
                times.setdefault(kind, []).append(float(record["duration_ms"]))  # type: ignore[arg-type]
        return times

    def error_lines(self) -> list[str]:
        """Log lines at ERROR or above (a traceback, a worker timeout or crash), JSON or not."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                if "Traceback" in line or "[ERROR]" in line or "[CRITICAL]" in line:
                    found.append(line)
                continue
            if isinstance(record, dict) and str(record.get("level", "")).upper() in {"ERROR", "CRITICAL"}:
                found.append(line)
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_gunicorn(env_overrides: dict[str, str], log_path: Path, *, workers: int, max_requests: int) -> Gunicorn:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key in _INHERITED}
    env.update(
        DEBUG="false",
        LOG_FORMAT="json",
        LOG_LEVEL=os.environ.get("BENCH_LOAD_LOG_LEVEL", "INFO"),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="bench.load_settings",
        GUNICORN_BIND=f"{LOOPBACK}:{port}",
        WEB_CONCURRENCY=str(workers),
        GUNICORN_MAX_REQUESTS=str(max_requests),
        ALLOWED_HOSTS=LOOPBACK,
    )
    env.update(env_overrides)
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )
    server = Gunicorn(process, port, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited while starting:\n{log_path.read_text(errors='replace')[-3000:]}")
        if len(server.worker_pids()) == workers and _healthy(server.url):
            return server
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"gunicorn did not answer /healthz within {START_TIMEOUT:g} s")


def _die_with_parent() -> None:
    """In gunicorn's process, before it starts: a SIGTERM when the benchmark dies, so no server outlives it."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def child_pids(parent: int) -> set[int]:
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name is in parentheses and may contain spaces; the parent id is the 2nd field after it.
        if int(stat.rpartition(")")[2].split()[1]) == parent:
            children.add(int(entry.name))
    return children


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def workers_rss(server: Gunicorn) -> dict[int, int]:
    sizes = {pid: rss_kb(pid) for pid in server.worker_pids()}
    return {pid: size for pid, size in sizes.items() if size is not None}
