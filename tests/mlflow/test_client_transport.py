"""The client's transport rules against a small real HTTP server: redirects, 429 and 5xx retries.

MLflow itself never redirects or rate-limits, so these cases use a plain local HTTP server that does.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.mlflow.client import MlflowClient, MlflowUnavailable, UnsafeUrl

pytestmark = pytest.mark.django_db


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next (status, headers, body) of the server's script."""

    def do_POST(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        status, headers, body = self.server.script.pop(0)  # type: ignore[attr-defined]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.script, server.seen = [], []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_a_redirect_to_another_host_is_not_followed(scripted_server):
    scripted_server.script = [(302, {"Location": "http://127.0.0.2:9/steal"}, {})]
    with pytest.raises(UnsafeUrl, match="another host"):
        MlflowClient(url_of(scripted_server)).check()


def test_a_redirect_on_the_same_host_is_followed(scripted_server):
    scripted_server.script = [(307, {"Location": "/moved"}, {}), (200, {}, {"experiments": []})]
    MlflowClient(url_of(scripted_server)).check()
    assert scripted_server.seen[-1] == "/moved"


def test_rate_limiting_and_server_errors_are_retried(scripted_server):
    scripted_server.script = [(429, {"Retry-After": "0"}, {}), (503, {}, {"message": "busy"}), (200, {}, {})]
    client = MlflowClient(url_of(scripted_server), retries=2, backoff_base=0.01)
    client.check()
    assert client.requests_made == 3


def test_persistent_server_errors_end_as_unavailable_with_the_server_message(scripted_server):
    scripted_server.script = [(500, {}, {"message": "database is locked"})] * 2
    client = MlflowClient(url_of(scripted_server), retries=1, backoff_base=0.01)
    with pytest.raises(MlflowUnavailable, match="500: database is locked"):
        client.check()
