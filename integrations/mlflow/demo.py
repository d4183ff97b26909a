"""The demo's MLflow history, logged through MLflow's own client on a running tracking server.

The story of the "Churn forecast" team, nine weeks of it (runs are backdated with
`MlflowClient.create_run(start_time=...)`; the registry stamps versions itself, so the rules read a
version's time from the run behind it):

* a retraining job (`mlflow.source.type=JOB`, from a git commit) registers a new version every two weeks,
  five in all. Each run logs its training and validation datasets with `log_input`, the metric names
  `mlflow.models.evaluate` writes with `metric_prefix="val_"`, and the job tags the version
  `validation_status=approved`: recurring checks of a system, so *automated*. Since v4 (two job runs,
  14 days apart, still *automated* by the pipeline rule) it also logs per-slice metrics, a latency figure
  and data expectations; only v5 has feature importances (one version: *manual*).
* CI's end-to-end smoke test of the pipeline on a small sample before each release (infra-3),
* a data scientist, by hand: a majority-class baseline on v5's validation data, a max_depth sweep and a
  reproducibility check (two trainings with the same params, commit and data) - *manual*.
* weekly jobs: backtests of the serving model on served data (with a NaN count of the predictions) and
  input checks (schema violations, missing rates, drift); only two backtests follow v5 (*manual*).

v4 serves with v5 as challenger, then v5 is released (v4 kept as "previous"): mlaudit's alias history
shows a canary before serving and a rollback target, each seen once (*manual*).

Metric values are written, not computed: the demo shows what a team's MLflow holds, fast, without
training anything. Needs the optional mlflow package.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MODEL = "demo-churn-model"
TRAINING = "demo-churn-training"
BACKTESTS = "demo-churn-backtests"
INPUT_CHECKS = "demo-churn-input-checks"
INTEGRATION = "demo-churn-integration"
EXPERIMENTS = (TRAINING, INTEGRATION, BACKTESTS, INPUT_CHECKS)
# Bumped when the story changes: a store seeded with another version is rebuilt (see run_demo).
DEMO_VERSION = "3"
SEEDED_TAG = "mlaudit.demo"
DAY_MS = 86_400_000

# (days ago, git commit) of each release run, oldest first: v1 … v5, every 14 days.
RELEASES = (
    (66, "5d2c1b0a99887766554433221100ffeeddccbbaa"),
    (52, "6e3d2c1b0a998877665544332211000ffeeddccb"),
    (38, "7f4e3d2c1b0a9988776655443322110000ffeedd"),
    (24, "80f5e4d3c2b1a09988776655443322110000ffee"),
    (10, "91a6f5e4d3c2b1a0998877665544332211000ffe"),
)
# Days ago of the weekly backtest and input-check jobs: the last two come after v5 was made.
WEEKLY_JOBS = tuple(64 - 7 * week for week in range(10))
RELEASE_PARAMS = {
    "model": "GradientBoostingClassifier",
    "learning_rate": "0.1",
    "max_depth": "4",
    "n_estimators": "200",
}
SLICES = ("new_customers", "long_tenure")
BY_HAND = {"mlflow.source.type": "LOCAL", "mlflow.source.name": "train.py", "mlflow.user": "ana"}
BY_HAND_COMMIT = "a2b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9"


def quiet() -> None:
    """Silence what MLflow says that means nothing to a demo user ("View run at …", schema hints)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # the demo sends nothing out of this machine
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    os.environ.setdefault("MLFLOW_PRINT_MODEL_URLS_ON_CREATION", "false")
    for name in ("mlflow", "alembic", "urllib3.connectionpool"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # The demo's stand-in model has a signature and no input example: nothing to tell the user about it.
    warnings.filterwarnings("ignore", message=r".*An input example was not provided", category=UserWarning)


@dataclass
class History:
    tracking_uri: str
    now_ms: int = 0

    def __post_init__(self) -> None:
        import mlflow

        quiet()
        self.now_ms = self.now_ms or int(time.time() * 1000)
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        self.client = mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def ms(self, days_ago: float) -> int:
        return self.now_ms - int(days_ago * DAY_MS)

    def date(self, days_ago: float) -> str:
        return datetime.fromtimestamp(self.ms(days_ago) / 1000, UTC).strftime("%Y-%m-%d")

    def experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        return str(found.experiment_id if found else self.client.create_experiment(name))

    def log(
        self, run_id: str, days_ago: float, metrics: dict[str, float], params: dict[str, str] | None = None
    ) -> None:
        from mlflow.entities import Metric, Param

        stamp = self.ms(days_ago)
        self.client.log_batch(
            run_id,
            metrics=[Metric(key, float(value), stamp, 0) for key, value in metrics.items()],
            params=[Param(key, str(value)) for key, value in (params or {}).items()],
        )

    def logged(
        self, experiment_id: str, name: str, days_ago: float, tags: dict[str, str], *,
        inputs: tuple[tuple[Any, str], ...], metrics: dict[str, float], params: dict[str, str] | None = None,
        minutes: float = 4,
    ) -> str:  # fmt: skip
        """A finished run written with MlflowClient alone (four requests; the fluent API needs twice as many):
        what `mlflow.log_input(dataset, context=…)` and `log_metrics`/`log_params` record."""

        run_id = self.started(experiment_id, name, days_ago, tags, inputs)
        self.log(run_id, days_ago, metrics, params)
        self.finished(run_id, days_ago, minutes)
        return run_id

    def started(
        self, experiment_id: str, name: str, days_ago: float, tags: dict[str, str], inputs: tuple[tuple[Any, str], ...]
    ) -> str:
        from mlflow.entities import Dataset, DatasetInput, InputTag
        from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

        run = self.client.create_run(experiment_id, start_time=self.ms(days_ago), tags=tags, run_name=name)
        self.client.log_inputs(
            run.info.run_id,
            datasets=[
                DatasetInput(Dataset(**dataset.to_dict()), [InputTag(MLFLOW_DATASET_CONTEXT, context)])
                for dataset, context in inputs
            ],
        )
        return str(run.info.run_id)

    def finished(self, run_id: str, days_ago: float, minutes: float) -> None:
        self.client.set_terminated(run_id, "FINISHED", end_time=self.ms(days_ago) + int(minutes * 60_000))


def _frame(seed: int, rows: int = 40) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure_months": rng.uniform(0, 72, rows).round(1),
            "monthly_charges": rng.uniform(15, 120, rows).round(2),
            "support_calls": rng.integers(0, 6, rows).astype(float),
        }
    )
    frame["churned"] = (frame["tenure_months"] < 12).astype(float)
    return frame


def _dataset(seed: int, name: str) -> Any:
    import mlflow

    return mlflow.data.from_pandas(_frame(seed), name=name, targets="churned")  # type: ignore[attr-defined]


def _evaluated(prefix: str, roc_auc: float, examples: int) -> dict[str, float]:
    """The classifier metrics mlflow.models.evaluate logs under `prefix` (evaluator_config metric_prefix)."""
    return {
        f"{prefix}example_count": examples,
        f"{prefix}roc_auc": roc_auc,
        f"{prefix}accuracy_score": round(roc_auc - 0.04, 4),
        f"{prefix}precision_score": round(roc_auc - 0.09, 4),
        f"{prefix}recall_score": round(roc_auc - 0.12, 4),
        f"{prefix}f1_score": round(roc_auc - 0.105, 4),
        f"{prefix}log_loss": round(1.1 - roc_auc, 4),
    }


def _model() -> Any:
    import mlflow

    class ChurnModel(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
        # A stand-in logged with an explicit signature. Without this MLflow prints, under its own
        # warnings.simplefilter("once") (so no filter of ours reaches it), a hint to add type hints.
        _skip_type_hint_validation = True

        def predict(self, context, model_input, params=None):  # no hints: MLflow would read them as a schema
            return [0.0] * len(model_input)

    return ChurnModel()


def _release(h: History, experiment_id: str, number: int, days_ago: int, commit: str) -> str:
    """One run of the retraining job and the version it registers; returns the version number."""
    import mlflow
    from mlflow.models import infer_signature

    newer = number >= 4  # what the job learnt to log from v4 on
    tags = {
        "mlflow.source.type": "JOB", "mlflow.source.name": "pipelines/retrain.py", "mlflow.user": "retrain-job",
        "mlflow.source.git.commit": commit,
    }  # fmt: skip
    roc_auc = 0.84 + number * 0.006
    inputs = (
        (_dataset(number, f"churn-train-{h.date(days_ago)}"), "training"),
        (_dataset(100 + number, f"churn-validation-{h.date(days_ago)}"), "validation"),
    )
    run_id = h.started(experiment_id, f"retrain {h.date(days_ago)}", days_ago, tags, inputs)
    metrics = {"training_roc_auc": round(roc_auc + 0.05, 4), **_evaluated("val_", roc_auc, 8000)}
    if newer:
        for index, name in enumerate(SLICES):
            metrics.update(_evaluated(f"slice_{name}_", roc_auc - 0.01 + index * 0.015, 1500 + index * 900))
        metrics["p95_latency_ms"] = 12.4 - (number - 4) * 0.6
        h.client.log_dict(
            run_id,
            {"tenure_months": {"min": 0, "max": 120}, "monthly_charges": {"min": 0, "max": 500},
             "support_calls": {"min": 0, "max": 50, "missing": "not allowed"}},
            "data_expectations.json",
        )  # fmt: skip
    if number >= 5:
        importance = {"tenure_months": 0.52, "monthly_charges": 0.31, "support_calls": 0.17}
        h.client.log_dict(run_id, importance, "feature_importance.json")
    features = _frame(number).drop(columns=["churned"])
    mlflow.set_experiment(experiment_id=experiment_id)  # resuming a run needs its experiment active
    with mlflow.start_run(run_id=run_id):
        info = mlflow.pyfunc.log_model(
            name="model", python_model=_model(), signature=infer_signature(features, [0.0] * len(features)),
            pip_requirements=["pandas"],
        )  # fmt: skip
    # Metrics after the model: log_model would otherwise fetch each metric's history to link it to the model.
    h.log(run_id, days_ago, metrics, RELEASE_PARAMS)
    h.finished(run_id, days_ago, minutes=12)
    version = h.client.create_model_version(
        MODEL, info.model_uri, run_id=run_id, model_id=info.model_id, tags={"validation_status": "approved"}
    )
    return str(version.version)


def _smoke_test(h: History, experiment_id: str, days_ago: int, commit: str) -> None:
    """CI runs the whole pipeline on a small sample before each release: the end-to-end test of infra-3."""
    tags = {"ci": "github-actions", "mlflow.source.git.commit": commit, "mlflow.user": "ci"}
    inputs = ((_dataset(900 + days_ago, f"churn-sample-{h.date(days_ago + 0.1)}"), "training"),)
    run_id = h.started(experiment_id, f"e2e-smoke {h.date(days_ago + 0.1)}", days_ago + 0.1, tags, inputs)
    h.log(run_id, days_ago + 0.1, _evaluated("val_", 0.8, 400), RELEASE_PARAMS)
    h.finished(run_id, days_ago + 0.1, minutes=3)


def _by_hand(h: History, experiment_id: str) -> None:
    """A data scientist's runs: a baseline on v5's validation data, a sweep, a reproducibility check."""

    days_ago, _commit = RELEASES[-1]
    validation = _dataset(100 + len(RELEASES), f"churn-validation-{h.date(days_ago)}")
    training = _dataset(len(RELEASES), f"churn-train-{h.date(days_ago)}")
    by_hand = {**BY_HAND, "mlflow.source.git.commit": BY_HAND_COMMIT}
    h.logged(
        experiment_id, "majority-class baseline", 6, by_hand, inputs=((validation, "validation"),),
        metrics={**_evaluated("val_", 0.5, 8000), "val_accuracy_score": 0.74}, params={"strategy": "most_frequent"},
    )  # fmt: skip
    parent = h.client.create_run(
        experiment_id, start_time=h.ms(5), tags=by_hand, run_name="max_depth sweep"
    ).info.run_id
    for depth in (3, 4, 5, 6):
        h.logged(
            experiment_id, f"max_depth={depth}", 5, {**by_hand, "mlflow.parentRunId": parent},
            inputs=((training, "training"),), params={**RELEASE_PARAMS, "max_depth": str(depth)},
            metrics=_evaluated("val_", 0.86 + depth * 0.003 - (depth == 6) * 0.01, 8000),
        )  # fmt: skip
    h.client.set_terminated(parent, "FINISHED", end_time=h.ms(5) + 30 * 60_000)
    for attempt, roc_auc in ((1, 0.8712), (2, 0.8709)):
        h.logged(
            experiment_id, f"reproducibility check {attempt}", 4, by_hand, inputs=((training, "training"),),
            metrics=_evaluated("val_", roc_auc, 8000), params={**RELEASE_PARAMS, "random_state": "42"},
        )  # fmt: skip


def _weekly_jobs(h: History, backtests: str, input_checks: str) -> None:
    """Backtests of the serving model on last week's served data, and input checks, by scheduled jobs."""

    job = {"mlflow.source.type": "JOB", "mlflow.user": "monitoring-job"}
    for week, days_ago in enumerate(WEEKLY_JOBS):
        served = _dataset(200 + week, f"churn-served-{h.date(days_ago)}")
        h.logged(
            backtests, f"backtest {h.date(days_ago)}", days_ago, {**job, "mlflow.source.name": "jobs/backtest.py"},
            inputs=((served, "evaluation"),),
            metrics={**_evaluated("", 0.862 + week * 0.002, 5200 + week * 40), "prediction_nan_count": 0,
                     "prediction_inf_count": 0},
        )  # fmt: skip
        h.logged(
            input_checks, f"input checks {h.date(days_ago)}", days_ago,
            {**job, "mlflow.source.name": "jobs/input_checks.py"}, inputs=((served, "serving"),), minutes=1,
            metrics={"schema_violations": 0, "tenure_months_missing_rate": 0.002 + week * 0.0004,
                     "monthly_charges_drift_psi": 0.03 + week * 0.004},
        )  # fmt: skip


def is_seeded(tracking_uri: str) -> bool:
    """Did a complete seed of this demo version reach this server? (The tag is set last.)"""
    quiet()
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        model = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri).get_registered_model(MODEL)
    except MlflowException:
        return False
    return model.tags.get(SEEDED_TAG) == DEMO_VERSION


def seed(tracking_uri: str) -> bool:
    """Log the demo history once; False when the server already holds it. v4 serves, v5 is the challenger."""
    if is_seeded(tracking_uri):
        return False
    h = History(tracking_uri)
    _forget_partial_seed(h)
    h.client.create_registered_model(MODEL, description="Churn forecast: the demo's retrained classifier.")
    training, integration = h.experiment(TRAINING), h.experiment(INTEGRATION)
    versions = []
    for number, (days, commit) in enumerate(RELEASES, start=1):
        _smoke_test(h, integration, days, commit)
        versions.append(_release(h, training, number, days, commit))
    _by_hand(h, training)
    _weekly_jobs(h, h.experiment(BACKTESTS), h.experiment(INPUT_CHECKS))
    set_aliases(tracking_uri, {"champion": versions[-2], "challenger": versions[-1]})
    h.client.set_registered_model_tag(MODEL, SEEDED_TAG, DEMO_VERSION)
    return True


def _forget_partial_seed(h: History) -> None:
    """A seed interrupted earlier (or of another DEMO_VERSION) left runs behind: delete them, so seeding
    again does not duplicate them (MLflow keeps deleted runs out of searches and the UI)."""
    from mlflow.exceptions import MlflowException

    with contextlib.suppress(MlflowException):
        h.client.delete_registered_model(MODEL)
    for name in EXPERIMENTS:
        found = h.client.get_experiment_by_name(name)
        if found is None:
            continue
        while runs := h.client.search_runs([found.experiment_id], max_results=1000):
            for run in runs:
                h.client.delete_run(run.info.run_id)


def release(tracking_uri: str) -> None:
    """The challenger v5 becomes champion; v4 is kept as "previous" for a rollback."""
    set_aliases(tracking_uri, {"champion": str(len(RELEASES)), "previous": str(len(RELEASES) - 1), "challenger": None})


def set_aliases(tracking_uri: str, aliases: dict[str, str | None]) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    for alias, version in aliases.items():
        if version is None:
            client.delete_registered_model_alias(MODEL, alias)
        else:
            client.set_registered_model_alias(MODEL, alias, version)


# The demo project's side (mlaudit's database) ------------------------------------------------------

CONNECTION_NAME = "Demo MLflow server"


def demo_manager(project: Any) -> Any:
    from audits.models import Membership, Role

    membership = Membership.objects.filter(team=project.team, role=Role.MANAGER).select_related("user").first()
    return membership.user if membership else None


def connect(project: Any, tracking_uri: str, *, fresh: bool, auth: dict[str, Any] | None = None) -> Any:
    """The project's demo connection, pointing at this server (its port may change at each start).

    After a fresh seed the connection starts over, so its alias history is the new store's.
    """
    from integrations.mlflow import services
    from integrations.mlflow.models import MlflowConnection

    actor = demo_manager(project)
    existing = MlflowConnection.objects.filter(project=project, name=CONNECTION_NAME).first()
    if existing is not None and fresh:
        services.connection_delete(actor=actor, connection=existing)
        existing = None
    fields: dict[str, Any] = {"tracking_uri": tracking_uri, "ui_url": tracking_uri}
    if existing is not None:
        return services.connection_update(actor=actor, connection=existing, auth=auth, **fields)
    return services.connection_create(
        actor=actor, project=project, auth=auth, name=CONNECTION_NAME, experiments=list(EXPERIMENTS),
        registered_models=[MODEL], schedule="off", **fields,
    )  # fmt: skip


def sync(connection: Any) -> Any:
    """Run one sync now, in this process; returns the finished SyncRun (raises RuntimeError if it failed)."""
    from integrations.mlflow import services
    from integrations.mlflow.models import SyncState

    made = services.sync_request(actor=demo_manager(connection.project), connection=connection)
    services.sync_execute(sync_id=made.pk, final_attempt=True)
    made.refresh_from_db()
    if made.state != SyncState.SUCCEEDED:
        raise RuntimeError(f"the demo sync failed: {made.error}")
    return made
