"""The rules and levels on a history written with MLflow's real client against the real test server.

A team retrains weekly from a job (mlflow.source.type=JOB), evaluates each version with
mlflow.models.evaluate (metric_prefix "test_", one slice per plan), approves it with the documented
validation_status tag, lets each new version be the challenger before it becomes champion, and runs
weekly backtests in their own experiment. Runs are backdated (create_run(start_time=...)); the registry
stamps versions itself, so recurrence is read from the runs behind the versions.
"""

from __future__ import annotations

import time

import pytest

from integrations.mlflow import services
from integrations.mlflow.models import SyncTrigger
from integrations.mlflow.selectors import latest_findings
from tests.mlflow.scenarios._kit import evaluate

pytestmark = pytest.mark.django_db
DAY_MS = 86_400_000
MODEL = "weekly-churn"
COMMIT = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.MLAUDIT_MLFLOW_HTTP_RETRIES = 1
    settings.MLAUDIT_MLFLOW_HTTP_BACKOFF = 0.05


def _frame(seed: int = 7):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"tenure": rng.uniform(0, 60, 200), "plan": rng.integers(0, 2, 200).astype(float)})
    frame["churned"] = ((frame["tenure"] < 20) ^ (rng.uniform(size=200) < 0.1)).astype(int)
    return frame


def _evaluate(model_uri: str, frame, prefix: str) -> None:
    evaluate(model_uri, frame, target="churned", model_type="classifier", prefix=prefix)


class History:
    def __init__(self, url: str, sync) -> None:
        import mlflow

        mlflow.set_tracking_uri(url)
        mlflow.set_registry_uri(url)
        self.client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
        self.sync = sync
        self.now = int(time.time() * 1000)
        self.frame = _frame()

    def experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        return found.experiment_id if found else self.client.create_experiment(name)

    def weekly_version(self, experiment_id: str, days_ago: int, *, expectations: bool) -> str:
        import mlflow
        from mlflow.models import infer_signature
        from sklearn.linear_model import LogisticRegression

        start = self.now - days_ago * DAY_MS
        tags = {"mlflow.source.type": "JOB", "mlflow.source.name": "retrain", "mlflow.source.git.commit": COMMIT}
        run = self.client.create_run(experiment_id, start_time=start, tags=tags, run_name=f"retrain-{days_ago}d")
        features, target = self.frame[["tenure", "plan"]], self.frame["churned"]
        # Another test may have left a different active experiment in MLflow's process-wide fluent state.
        mlflow.set_experiment(experiment_id=experiment_id)
        with mlflow.start_run(run_id=run.info.run_id):
            mlflow.log_params({"C": 1.0, "penalty": "l2"})
            mlflow.log_input(mlflow.data.from_pandas(self.frame, name="churn-weekly"), context="training")
            model = LogisticRegression(C=1.0).fit(features, target)
            info = mlflow.sklearn.log_model(
                model, name="model", signature=infer_signature(features, model.predict(features)),
                pip_requirements=["scikit-learn"],
            )  # fmt: skip
            _evaluate(info.model_uri, self.frame, "test_")
            for plan, part in self.frame.groupby("plan"):
                _evaluate(info.model_uri, part, f"slice_plan{int(plan)}_")
            if expectations:
                mlflow.log_dict({"tenure": {"min": 0, "max": 60}}, "data_expectations.json")
        self.client.set_terminated(run.info.run_id, "FINISHED", end_time=start + 600_000)
        version = self.client.create_model_version(
            MODEL, info.model_uri, run_id=run.info.run_id, model_id=info.model_id,
            tags={"validation_status": "approved"},
        )  # fmt: skip
        return str(version.version)

    def backtest(self, experiment_id: str, days_ago: int) -> None:
        import mlflow

        start = self.now - days_ago * DAY_MS
        run = self.client.create_run(
            experiment_id, start_time=start, tags={"mlflow.source.type": "JOB"}, run_name=f"backtest-{days_ago}d"
        )
        # Another test may have left a different active experiment in MLflow's process-wide fluent state.
        mlflow.set_experiment(experiment_id=experiment_id)
        with mlflow.start_run(run_id=run.info.run_id):  # last week's customers, not the training table
            _evaluate(f"models:/{MODEL}@champion", _frame(seed=days_ago + 100), "")
        self.client.set_terminated(run.info.run_id, "FINISHED", end_time=start + 60_000)

    def build(self) -> None:
        self.client.create_registered_model(MODEL)
        training = self.experiment("weekly-churn-training")
        v1 = self.weekly_version(training, 15, expectations=False)
        self.client.set_registered_model_alias(MODEL, "champion", v1)
        self.sync()
        for days_ago, last in ((8, False), (1, True)):
            new = self.weekly_version(training, days_ago, expectations=last)
            self.client.set_registered_model_alias(MODEL, "challenger", new)
            self.sync()
            old = self.client.get_model_version_by_alias(MODEL, "champion").version
            self.client.set_registered_model_alias(MODEL, "champion", new)
            self.client.set_registered_model_alias(MODEL, "previous", old)
            self.client.delete_registered_model_alias(MODEL, "challenger")
            self.sync()
        backtests = self.experiment("weekly-churn-backtests")
        self.backtest(backtests, 0)


@pytest.fixture
def weekly_team(manager, project, connect, mlflow_server):
    connection = connect(
        project, mlflow_server, experiments=["weekly-churn-training", "weekly-churn-backtests"],
        registered_models=[MODEL],
    )  # fmt: skip

    def sync(trigger: str = SyncTrigger.USER):
        made = services.sync_request(actor=manager if trigger == SyncTrigger.USER else None, connection=connection,
                                     trigger=trigger)  # fmt: skip
        services.sync_execute(sync_id=made.pk, final_attempt=True)
        made.refresh_from_db()
        assert made.state == "succeeded", made.error
        return made

    History(mlflow_server.url, lambda: None).experiment("weekly-churn-training")
    History(mlflow_server.url, lambda: None).experiment("weekly-churn-backtests")
    History(mlflow_server.url, sync).build()
    sync()
    return connection, sync


def test_a_weekly_job_with_evaluate_and_approvals_earns_levels_that_cite_their_recurrence_whoever_syncs(
    project, weekly_team
):
    findings = latest_findings(project=project)
    result = {code: (f.result, f.suggested_status) for code, f in findings.items()}

    assert result["infra-4"] == ("pass", "automated")
    assert "present on 3 of the last 3 versions, over 14 days" in findings["infra-4"].reason
    assert "validation_status=approved" in findings["infra-4"].reason
    assert result["model-1"] == ("pass", "automated")
    assert result["monitoring-4"] == ("pass", "automated")
    assert result["model-6"][0] == "pass" and "slices" in findings["model-6"].reason
    # the canary was seen before serving for v2 and v3 only (v1 was champion at the first sync)
    assert result["infra-6"] == ("pass", "manual")
    assert result["infra-7"][0] == "pass"
    assert result["monitoring-7"][0] == "pass"
    assert result["data-1"] == ("pass", "manual")  # expectations written down once, on the newest version
    # what mlaudit only observes is a fact, not a pass
    assert findings["monitoring-5"].result == "unknown" and findings["monitoring-5"].reason.startswith("Observed:")
    # no baseline, no fairness slices, no input checks: nothing suggested
    assert {result[c][0] for c in ("model-5", "model-7", "monitoring-2")} == {"fail"}

    # the same evidence, synced by the schedule instead of a person, suggests the same levels
    _connection, sync = weekly_team
    by_hand = {c: f.suggested_status for c, f in findings.items()}
    sync(SyncTrigger.SCHEDULE)
    scheduled = {c: f.suggested_status for c, f in latest_findings(project=project).items()}
    assert scheduled == by_hand
    assert "manual" in scheduled.values() and "automated" in scheduled.values()


def test_a_sync_that_meets_an_mlmodel_over_the_size_cap_records_it_as_too_large_to_read(
    manager, project, connect, scenario, monkeypatch
):
    from integrations.mlflow import sync
    from integrations.mlflow.models import SyncedModelVersion

    scenario.aliases_before_release()
    connection = connect(
        project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model]
    )

    def synced_mlmodel() -> dict:
        made = services.sync_request(actor=manager, connection=connection)
        services.sync_execute(sync_id=made.pk, final_attempt=True)
        made.refresh_from_db()
        assert made.state == "succeeded", made.error
        return SyncedModelVersion.objects.get(connection=connection, model_name=scenario.model, version=1).mlmodel

    assert "signature" in synced_mlmodel()  # under the cap, the MLmodel file is read
    monkeypatch.setattr(sync, "MLMODEL_READ_LIMIT", 64)  # a real MLmodel file is a few hundred bytes
    too_large = synced_mlmodel()
    assert too_large["unreadable"] == {"MLmodel": "too large to read"}
    assert "signature" not in too_large and "MLmodel" in too_large["files"]
