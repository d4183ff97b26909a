"""A real MLflow server for the whole session, seeded with the mlflow client, plus helpers: API and browser
clients, offline connections and hand-made findings."""

from __future__ import annotations

import contextlib
import os
from contextlib import contextmanager
from dataclasses import dataclass

import kombu.pools
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from integrations.mlflow import services
from integrations.mlflow.models import Finding, MlflowConnection
from tests.conftest import PASSWORD
from tests.mlflow.server import ADMIN_PASSWORD, ADMIN_USER, MlflowServer

# MLflow's client sends usage telemetry by default; tests talk to loopback only.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

BIG_EXPERIMENT_RUNS = 5000


@contextmanager
def celery_broker(url: str):
    """Make this process send tasks to `url` instead of running them eagerly; restored afterwards."""
    from config.celery import app

    def forget_connections() -> None:
        # Both pools are bound to the broker they were created for (kombu keeps them, keyed by URL).
        app._pool = None
        app.amqp._producer_pool = None
        # kombu's global registry may still hand out a producer pool that an earlier test closed
        # ("Acquire on closed pool"); start from an empty registry.
        kombu.pools.reset()

    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue)
    forget_connections()
    app.conf.update(broker_url=url, task_always_eager=False)
    try:
        yield app
    finally:
        forget_connections()
        app.conf.update(broker_url=saved[0], task_always_eager=saved[1], task_default_queue=saved[2])


MODEL = "churn-model"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    server = MlflowServer(tmp_path_factory.mktemp("mlflow"), basic_auth=True)
    server.start()
    os.environ["MLFLOW_TRACKING_USERNAME"] = ADMIN_USER
    os.environ["MLFLOW_TRACKING_PASSWORD"] = ADMIN_PASSWORD
    yield server
    server.stop()


@dataclass
class Scenario:
    server: MlflowServer
    experiment: str
    experiment_id: str
    model: str
    v1_run: str
    v2_run: str
    baseline_run: str
    sweep_parent: str

    def client(self):
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.server.url, registry_uri=self.server.url)

    def aliases_before_release(self) -> None:
        """v1 serves, v2 is the challenger."""
        client = self.client()
        for alias in ("previous",):
            with contextlib.suppress(Exception):
                client.delete_registered_model_alias(self.model, alias)
        client.set_registered_model_alias(self.model, "champion", "1")
        client.set_registered_model_alias(self.model, "challenger", "2")

    def aliases_after_release(self) -> None:
        """v2 serves, v1 is kept as the previous version."""
        client = self.client()
        client.set_registered_model_alias(self.model, "champion", "2")
        client.set_registered_model_alias(self.model, "previous", "1")
        client.delete_registered_model_alias(self.model, "challenger")


@pytest.fixture(scope="session")
def scenario(mlflow_server) -> Scenario:
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    mlflow.set_tracking_uri(mlflow_server.url)
    mlflow.set_registry_uri(mlflow_server.url)
    experiment = mlflow.set_experiment("churn")
    frame = pd.DataFrame({"tenure": [1.0, 5.0, 9.0, 12.0], "plan": ["basic", "pro", "pro", "basic"]})
    dataset = mlflow.data.from_pandas(frame, name="churn-2026-10")
    commit = "4f1c2a9e0b7d3c5e8f6a1b2c3d4e5f6a7b8c9d0e"

    def trained(name: str, params: dict, metrics: dict, tags: dict | None = None, parent: bool = False) -> str:
        with mlflow.start_run(run_name=name, nested=parent) as run:
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            mlflow.set_tags({"mlflow.source.git.commit": commit, "git_dirty": "false", **(tags or {})})
            mlflow.log_input(dataset, context="training")
            return run.info.run_id

    baseline = trained("baseline", {"model": "majority"}, {"accuracy": 0.70, "latency_ms": 1.0}, {"baseline": "true"})
    with mlflow.start_run(run_name="sweep") as parent:
        for lr in (0.01, 0.1, 0.3):
            trained(f"lr={lr}", {"lr": lr, "depth": 5}, {"accuracy": 0.8 + lr / 10}, parent=True)
    for value in (0.850, 0.851):
        trained("repeat", {"lr": 0.1, "depth": 3}, {"accuracy": value})

    class Churn(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return [0] * len(model_input)

    v1_metrics = {"accuracy": 0.80, "val_accuracy": 0.79, "latency_ms": 12.0}

    def release(name: str, params: dict, metrics: dict):
        with mlflow.start_run(run_name=name) as run:
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            mlflow.set_tags({"mlflow.source.git.commit": commit, "git_dirty": "false"})
            mlflow.log_input(dataset, context="training")
            mlflow.pyfunc.log_model(
                name="model",
                python_model=Churn(),
                signature=infer_signature(frame, [0, 1, 0, 1]),
                input_example=frame.head(2),
                pip_requirements=["pandas"],  # no requirement inference: much faster
                registered_model_name=MODEL,
            )
            return run

    run1 = release("release-1", {"lr": 0.05, "depth": 4}, v1_metrics)
    v2_metrics = {
        "accuracy": 0.88, "val_accuracy": 0.87, "latency_ms": 12.5,
        "slice/mobile/accuracy": 0.86, "slice/desktop/accuracy": 0.89,
    }  # fmt: skip
    run2 = release("release-2", {"lr": 0.1, "depth": 4}, v2_metrics)
    result = Scenario(
        server=mlflow_server,
        experiment="churn",
        experiment_id=experiment.experiment_id,
        model=MODEL,
        v1_run=run1.info.run_id,
        v2_run=run2.info.run_id,
        baseline_run=baseline,
        sweep_parent=parent.info.run_id,
    )
    result.aliases_before_release()
    return result


@pytest.fixture(scope="session")
def big_experiment(mlflow_server) -> str:
    """An experiment of 5,000 runs (name)."""
    name = "big-sweep"
    experiment_id = mlflow_server.create_experiment(name)
    mlflow_server.insert_runs(experiment_id, BIG_EXPERIMENT_RUNS)
    return name


@pytest.fixture
def connect(manager):
    """Create a connection to the test server for the `project` fixture's project."""

    def make(project, server: MlflowServer, **fields) -> MlflowConnection:
        fields.setdefault("tracking_uri", server.url)
        fields.setdefault("name", "test server")
        auth = fields.pop("auth", {"type": "basic", "username": ADMIN_USER, "password": ADMIN_PASSWORD})
        return services.connection_create(actor=manager, project=project, auth=auth, **fields)

    return make


@pytest.fixture
def quick(settings):
    """One quick HTTP attempt to a server, and an empty cache."""
    settings.MLAUDIT_MLFLOW_HTTP_RETRIES = 1
    settings.MLAUDIT_MLFLOW_HTTP_BACKOFF = 0.05
    cache.clear()


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web_as(user) -> Client:
    client = Client()
    client.login(username=user.get_username(), password=PASSWORD)
    return client


def make_finding(connection, sync, code: str, result: str = "pass", suggested: str = "manual") -> Finding:
    return Finding.objects.create(
        connection=connection, project=connection.project, sync=sync, item_code=code, result=result,
        reason=f"{code} looks fine", links=[f"http://mlflow.example/#/experiments/1/runs/{code}"],
        suggested_status=suggested if result == "pass" else "", synced_at=timezone.now(),
    )  # fmt: skip


def offline_connection(project, manager) -> MlflowConnection:
    return services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", experiments=["churn"], schedule="off"
    )
