"""Helpers of the worker fault drills: a real prefork Celery worker, and a slow loopback proxy to MLflow.

The proxy is real TCP on 127.0.0.1, written here with sockets: it holds each request for `delay` seconds
before passing it on, so a sync against a real MLflow server lasts long enough to be killed mid-way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis
from django.db import connection as db_connection

from integrations.mlflow.models import SyncRun, SyncState

REDIS_URL = os.environ.get("MLFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


class SlowProxy:
    """Forward 127.0.0.1:<port> to an upstream loopback port, delaying every request by `delay` seconds.

    The upstream MLflow server only accepts its own Host header (DNS-rebinding guard), so the proxy rewrites
    the Host of each request to the upstream address.
    """

    def __init__(self, upstream_port: int, delay: float = 0.0):
        self.upstream_port = upstream_port
        self.delay = delay
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()  # the server is down: the client sees the connection closed
                continue
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, is_request: bool) -> None:
        own = f"127.0.0.1:{self.port}".encode()
        upstream = f"127.0.0.1:{self.upstream_port}".encode()
        try:
            while data := source.recv(65536):
                if is_request:
                    time.sleep(self.delay)
                    data = data.replace(b"Host: " + own, b"Host: " + upstream)
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


def database_url() -> str:
    s = db_connection.settings_dict
    credentials = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """`celery -A config worker --pool=prefork -c 1` on its own queue, started and killed like production."""

    def __init__(self, log_dir: Path, queue: str, env: dict[str, str]):
        self.queue = queue
        self.log_path = log_dir / f"worker-{queue}.log"
        self.env = {
            **os.environ, "DATABASE_URL": database_url(), "REDIS_URL": REDIS_URL, "CELERY_BROKER_URL": REDIS_URL,
            **env,
        }  # fmt: skip
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = [
            str(Path(sys.executable).with_name("celery")), "-A", "config", "worker", "--pool=prefork", "-c", "1",
            "-Q", self.queue, "-n", f"{self.queue}@%h", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "--loglevel", "INFO",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while "ready." not in self.log()[offset:]:
            assert self.process.poll() is None, self.log()[-3000:]
            assert time.monotonic() < deadline, "the worker did not start: " + self.log()[-3000:]
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def pool_child(self) -> int:
        """The pid of the prefork child that runs tasks."""
        assert self.process is not None
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True)
        children = [int(pid) for pid in out.stdout.split()]
        assert len(children) == 1, children
        return children[0]

    def kill_everything(self) -> None:
        """kill -9 of the worker and its pool child: nothing gets the chance to ack, reject or record."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill_everything()
        self.process = None


def clear_queue(queue: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    # The queue, and the unacked messages a killed worker of an earlier drill left behind.
    client.delete(queue, "unacked", "unacked_index", "unacked_mutex")


def wait_for(sync: SyncRun, predicate, timeout: float, what: str) -> SyncRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sync.refresh_from_db()
        if predicate(sync):
            return sync
        time.sleep(0.1)
    raise AssertionError(f"sync {sync.pk} never {what} in {timeout}s: {sync.state} {sync.error}")


def finished(sync: SyncRun) -> bool:
    return sync.state in (SyncState.SUCCEEDED, SyncState.FAILED)
