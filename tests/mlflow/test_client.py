"""The REST client against a real MLflow server."""

from __future__ import annotations

import socket
import time

import pytest

from integrations.mlflow.client import (
    Credentials,
    MlflowAuthError,
    MlflowClient,
    MlflowHostRejected,
    MlflowNotFound,
    MlflowUnavailable,
    UnsafeUrl,
    check_url,
)
from tests.mlflow.conftest import BIG_EXPERIMENT_RUNS
from tests.mlflow.server import ADMIN_PASSWORD, ADMIN_USER, free_port

pytestmark = pytest.mark.django_db


def admin(server) -> MlflowClient:
    return MlflowClient(server.url, Credentials("basic", ADMIN_USER, ADMIN_PASSWORD))


def test_client_pages_through_an_experiment_of_five_thousand_runs(mlflow_server, big_experiment):
    with admin(mlflow_server) as client:
        experiment = client.get_experiment(big_experiment)
        started = time.monotonic()
        runs = client.search_runs([experiment["experiment_id"]], page_size=1000)
        elapsed = time.monotonic() - started
    assert len(runs) == BIG_EXPERIMENT_RUNS
    assert len({run["info"]["run_id"] for run in runs}) == BIG_EXPERIMENT_RUNS
    assert client.requests_made >= 5  # one request per page: it really paged
    assert elapsed < 60


def test_client_finds_an_experiment_by_id_as_well_as_by_name(mlflow_server, scenario):
    with admin(mlflow_server) as client:
        assert client.get_experiment(scenario.experiment_id)["name"] == scenario.experiment


def test_missing_experiment_and_model_are_reported_by_name(mlflow_server, scenario):
    with admin(mlflow_server) as client:
        with pytest.raises(MlflowNotFound, match="no-such-experiment"):
            client.get_experiment("no-such-experiment")
        with pytest.raises(MlflowNotFound, match="no-such-model"):
            client.get_registered_model("no-such-model")


def test_wrong_password_is_an_authentication_error_without_retries(mlflow_server):
    client = MlflowClient(mlflow_server.url, Credentials("basic", ADMIN_USER, "wrong"), retries=3, backoff_base=5)
    started = time.monotonic()
    with pytest.raises(MlflowAuthError, match="401"):
        client.check()
    assert client.requests_made == 1
    assert time.monotonic() - started < 5


def test_unknown_host_header_is_explained_with_allowed_hosts(mlflow_server):
    client = MlflowClient(f"http://localhost:{mlflow_server.port}", Credentials("basic", ADMIN_USER, ADMIN_PASSWORD))
    with pytest.raises(MlflowHostRejected, match="--allowed-hosts"):
        client.check()


def test_server_down_is_retried_then_reported_as_unavailable():
    client = MlflowClient(f"http://127.0.0.1:{free_port()}", retries=2, backoff_base=0.05)
    with pytest.raises(MlflowUnavailable, match="Could not reach"):
        client.check()
    assert client.requests_made == 3


def test_client_reads_the_serving_model_files_through_the_artifact_proxy(mlflow_server, scenario):
    with admin(mlflow_server) as client:
        uri = client.model_version_artifact_uri(scenario.model, 1)
        files = {f["path"] for f in client.list_artifacts(uri)}
        assert {"MLmodel", "input_example.json"} <= files
        assert "signature:" in client.read_artifact_text(uri, "MLmodel")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://mlflow.example.com",
        "http://169.254.169.254/latest",
        "http://metadata.google.internal",
        "http://[fe80::1]:5000",
    ],
)
def test_unsafe_urls_are_refused(url):
    with pytest.raises(UnsafeUrl):
        check_url(url)


def test_allow_and_deny_lists_decide_which_hosts_are_called(settings):
    settings.MLAUDIT_MLFLOW_ALLOWED_HOSTS = [".example.com", "10.0.0.0/8"]
    check_url("http://10.1.2.3:5000")
    with pytest.raises(UnsafeUrl, match="not on MLAUDIT_MLFLOW_ALLOWED_HOSTS"):
        check_url("http://127.0.0.1:5000")
    settings.MLAUDIT_MLFLOW_ALLOWED_HOSTS = []
    settings.MLAUDIT_MLFLOW_DENIED_HOSTS = ["127.0.0.1"]
    with pytest.raises(UnsafeUrl, match="DENIED"):
        check_url("http://127.0.0.1:5000")


def test_credentials_never_appear_in_the_client_repr():
    assert "s3cret" not in repr(Credentials("basic", "u", "s3cret"))


def test_the_real_server_is_called_when_allowed_and_refused_at_connect_when_its_name_turns_denied(
    settings, mlflow_server, monkeypatch
):
    settings.MLAUDIT_MLFLOW_ALLOWED_HOSTS = ["127.0.0.1", "mlflow.rebind.test"]
    admin(mlflow_server).check()

    real = socket.getaddrinfo
    answers = ["127.0.0.1", "127.0.0.2"]  # the first lookup (the client's check_url), then every later one

    def rebinding(host, port, *args, **kwargs):
        if host == "mlflow.rebind.test":
            return real(answers.pop(0) if len(answers) > 1 else answers[0], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings.MLAUDIT_MLFLOW_DENIED_HOSTS = ["127.0.0.2/32"]
    client = MlflowClient(
        f"http://mlflow.rebind.test:{mlflow_server.port}", Credentials("basic", ADMIN_USER, ADMIN_PASSWORD)
    )
    with pytest.raises(UnsafeUrl, match=r"127\.0\.0\.2"):
        client.check()
