"""The client's transport rules against a small real HTTP server: redirects, 429 and 5xx retries with
Retry-After, the connect-time address check, and what an error message may repeat of the answer.

MLflow itself never redirects or rate-limits, so these cases use a plain local HTTP server that does.
Names are answered by a fake resolver; every address actually connected to is 127.0.0.1.
"""

from __future__ import annotations

import email.utils
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.mlflow.client import MlflowClient, MlflowError, MlflowUnavailable, UnsafeUrl

pytestmark = pytest.mark.django_db


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next (status, headers, body) of the server's script."""

    def do_POST(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        self.server.hosts.append(self.headers.get("Host"))  # type: ignore[attr-defined]
        self.server.times.append(time.monotonic())  # type: ignore[attr-defined]
        status, headers, body = self.server.script.pop(0)  # type: ignore[attr-defined]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        is_text = isinstance(body, str)
        self.send_header("Content-Type", "text/html" if is_text else "application/json")
        self.end_headers()
        self.wfile.write(body.encode() if is_text else json.dumps(body).encode())

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.script, server.seen, server.hosts, server.times = [], [], [], []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
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
    scripted_server.script = [(503, {}, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "database is locked"})] * 2
    client = MlflowClient(url_of(scripted_server), retries=1, backoff_base=0.01)
    with pytest.raises(MlflowUnavailable, match="503: database is locked"):
        client.check()
    assert client.requests_made == 2


def test_a_500_is_reported_at_once_and_left_to_the_sync_to_retry(scripted_server):
    scripted_server.script = [(500, {}, {"error_code": "INTERNAL_ERROR", "message": "boom"})] * 2
    client = MlflowClient(url_of(scripted_server), retries=1, backoff_base=0.01)
    with pytest.raises(MlflowUnavailable, match="500: boom"):
        client.check()
    assert client.requests_made == 1


SECRET_PAGE = "<html>Internal admin console: db password hunter2</html>"


@pytest.mark.parametrize(
    "status, body",
    [
        *[(status, SECRET_PAGE) for status in (200, 400, 401, 404, 502)],
        *[(400, {"message": "hunter2"}), (503, {"detail": "hunter2"}), (500, ["hunter2"])],
    ],
)
def test_an_error_never_repeats_the_body_of_something_that_is_not_mlflow(scripted_server, status, body):
    scripted_server.script = [(status, {}, body)]
    with pytest.raises(MlflowError) as caught:
        MlflowClient(url_of(scripted_server), retries=0).check()
    assert "hunter2" not in caught.value.message
    assert caught.value.status == status
    if status >= 500:
        assert f"answered {status}, which is not an MLflow error response" in caught.value.message


def test_retry_after_in_seconds_is_honoured(scripted_server):
    scripted_server.script = [(503, {"Retry-After": "1"}, {}), (200, {}, {"experiments": []})]
    client = MlflowClient(url_of(scripted_server), retries=2, backoff_base=0.001)
    client.check()
    first, second = scripted_server.times
    assert client.requests_made == 2
    assert second - first >= 0.9


def test_retry_after_as_an_http_date_is_honoured(scripted_server):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    scripted_server.script = [(503, {"Retry-After": when}, {}), (200, {}, {"experiments": []})]
    client = MlflowClient(url_of(scripted_server), retries=2, backoff_base=0.001)
    client.check()
    first, second = scripted_server.times
    assert second - first >= 0.9  # the date has a one-second resolution


def test_a_retry_after_beyond_the_cap_is_cut_and_nonsense_is_ignored():
    from urllib3.response import HTTPResponse

    from integrations.mlflow.outbound import RETRY_AFTER_CAP, MlflowRetry

    retry = MlflowRetry()
    assert retry.get_retry_after(HTTPResponse(headers={"Retry-After": "86400"})) == RETRY_AFTER_CAP
    assert retry.get_retry_after(HTTPResponse(headers={"Retry-After": "soon"})) is None


@pytest.fixture
def fake_dns(monkeypatch):
    """Answer chosen names with chosen addresses (each lookup takes the next answer); others as usual."""
    real = socket.getaddrinfo
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_address_is_checked_again_when_the_socket_connects(settings, scripted_server, fake_dns, scheme):
    # DNS rebinding: the name resolves to an allowed address when the client is built, then to a denied one.
    settings.MLAUDIT_MLFLOW_DENIED_HOSTS = ["127.0.0.2/32"]
    fake_dns["mlflow.rebind.test"] = ["127.0.0.1", "127.0.0.2"]
    port = scripted_server.server_address[1]
    client = MlflowClient(f"{scheme}://mlflow.rebind.test:{port}", retries=2, backoff_base=0.01)
    with pytest.raises(UnsafeUrl, match=r"127\.0\.0\.2"):
        client.check()
    assert scripted_server.seen == []


def test_a_checked_name_connects_to_the_checked_address_with_its_own_host_header(scripted_server, fake_dns):
    fake_dns["mlflow.internal.test"] = ["127.0.0.1"]
    port = scripted_server.server_address[1]
    scripted_server.script = [(200, {}, {"experiments": []})]
    MlflowClient(f"http://mlflow.internal.test:{port}").check()
    assert scripted_server.hosts == [f"mlflow.internal.test:{port}"]


def test_proxies_in_the_environment_are_not_used(monkeypatch, scripted_server):
    # The "proxy" is a closed port: a request sent through it would fail.
    from tests.mlflow.server import free_port

    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    scripted_server.script = [(200, {}, {"experiments": []})]
    MlflowClient(url_of(scripted_server), retries=0).check()
    assert scripted_server.seen == ["/api/2.0/mlflow/experiments/search"]
