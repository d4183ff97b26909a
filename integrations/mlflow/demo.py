"""A small local MLflow store for the demo (`manage.py seed_mlflow_demo`); needs the optional mlflow package.

Logs what a careful team logs: a baseline, a tuning sweep, a repeated training, two released versions with
signatures, validation, latency and per-slice metrics, and the champion/challenger/previous aliases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL = "demo-churn-model"
EXPERIMENT = "demo-churn"


def store_has_demo(db_path: Path) -> bool:
    import sqlite3

    if not db_path.is_file():
        return False
    with sqlite3.connect(db_path) as db:
        try:
            return db.execute("SELECT 1 FROM registered_models WHERE name = ?", (MODEL,)).fetchone() is not None
        except sqlite3.Error:
            return False


def build_store(root: Path) -> str:
    """Create the store under `root`; returns its sqlite: tracking URI."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{(root / 'mlflow.db').resolve()}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        mlflow.create_experiment(EXPERIMENT, artifact_location=(root / "artifacts").resolve().as_uri())
    mlflow.set_experiment(EXPERIMENT)
    frame = pd.DataFrame({"tenure_months": [1.0, 14.0, 30.0, 3.0], "plan": ["basic", "pro", "pro", "basic"]})
    dataset = mlflow.data.from_pandas(frame, name="churn-2026-10")  # type: ignore[attr-defined]
    source = {"mlflow.source.git.commit": "7d3c5e8f6a1b2c3d4e5f6a7b8c9d0e4f1c2a9e0b", "git_dirty": "false"}

    def trained(name: str, params: dict, metrics: dict, tags: dict | None = None, nested: bool = False) -> Any:
        with mlflow.start_run(run_name=name, nested=nested) as run:
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            mlflow.set_tags({**source, **(tags or {})})
            mlflow.log_input(dataset, context="training")
            return run

    class ChurnModel(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
        def predict(self, context, model_input, params=None):  # no hints: MLflow would read them as a schema
            return [0] * len(model_input)

    def release(name: str, params: dict, metrics: dict) -> None:
        with mlflow.start_run(run_name=name):
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            mlflow.set_tags(source)
            mlflow.log_input(dataset, context="training")
            mlflow.pyfunc.log_model(
                name="model",
                python_model=ChurnModel(),
                signature=infer_signature(frame, [0, 1, 0, 1]),
                input_example=frame.head(2),
                pip_requirements=["pandas"],
                registered_model_name=MODEL,
            )

    trained(
        "majority-class baseline", {"model": "majority"}, {"accuracy": 0.71, "latency_ms": 0.4}, {"baseline": "true"}
    )
    with mlflow.start_run(run_name="learning-rate sweep"):
        for lr in (0.01, 0.1, 0.2):
            trained(f"lr={lr}", {"lr": lr, "depth": 6}, {"accuracy": 0.8 + lr / 5}, nested=True)
    for accuracy in (0.842, 0.843):
        trained("reproducibility check", {"lr": 0.05, "depth": 5}, {"accuracy": accuracy})
    release("release 2026-10", {"lr": 0.05, "depth": 6}, {"accuracy": 0.83, "val_accuracy": 0.82, "latency_ms": 8.0})
    release(
        "release 2026-11",
        {"lr": 0.05, "depth": 8},
        {
            "accuracy": 0.86, "val_accuracy": 0.85, "latency_ms": 8.3,
            "slice/new_customers/accuracy": 0.84, "slice/long_tenure/accuracy": 0.88,
        },
    )  # fmt: skip
    set_aliases(uri, {"champion": "1", "challenger": "2"})
    return uri


def set_aliases(uri: str, aliases: dict[str, str | None]) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for alias, version in aliases.items():
        if version is None:
            client.delete_registered_model_alias(MODEL, alias)
        else:
            client.set_registered_model_alias(MODEL, alias, version)
