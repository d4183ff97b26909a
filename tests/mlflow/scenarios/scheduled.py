"""(d) Pipeline-scheduled retraining: a weekly job trains, evaluates, registers and promotes, for five weeks.

As an MLflow Project run by a scheduler (or a Databricks job) records it: every run carries
`mlflow.source.type=JOB`, the job's entry point and the git commit it was deployed from. Each Monday the job
reads the last four weeks of customers (`log_input`), fits the same configuration, evaluates the model on a
held-out week with `mlflow.models.evaluate(metric_prefix="test_")`, registers it with
`validation_status=approved` when test_roc_auc clears the bar, and points `champion` at it. Run start times
are backdated one week apart; mlaudit reads a version's age from the start of the run behind it.
"""

from __future__ import annotations

from tests.mlflow.scenarios._kit import (
    FEATURES,
    Kit,
    Scenario,
    automated,
    churn_frame,
    commit_of,
    evaluate,
    labels,
    none,
)

EXPERIMENT = "scheduled-churn-retrain"
MODEL = "scheduled-churn"
TARGET = "churned"
WEEKS = 5
APPROVAL_BAR = 0.7


def build(kit: Kit) -> None:
    import mlflow
    from sklearn.linear_model import LogisticRegression

    from tests.mlflow.scenarios._kit import log_sklearn_model

    experiment_id = kit.experiment(EXPERIMENT)
    params = {"C": 1.0, "max_iter": 200, "window_weeks": 4}
    for week in range(WEEKS):
        days_ago = 7 * (WEEKS - 1 - week) + 0.5
        train, holdout = churn_frame(100 + week, 300, drift=week), churn_frame(200 + week, 150, drift=week)
        with kit.run(experiment_id, f"weekly-retrain-{week + 1}", days_ago=days_ago, source="JOB",
                     source_name="jobs/retrain_churn", user="svc-ml", commit=commit_of(7)) as run:  # fmt: skip
            mlflow.log_params(params)
            mlflow.log_input(mlflow.data.from_pandas(train, name=f"customers-w{week}", targets=TARGET),
                             context="training")  # fmt: skip
            model = LogisticRegression(C=params["C"], max_iter=params["max_iter"]).fit(train[FEATURES], train[TARGET])
            model_id = log_sklearn_model(model, train[FEATURES])
            metrics = evaluate(f"models:/{model_id}", holdout, target=TARGET, model_type="classifier", prefix="test_")
        approved = metrics["test_roc_auc"] >= APPROVAL_BAR
        version = kit.register(
            run.info.run_id, model_id, MODEL, tags={"validation_status": "approved" if approved else "rejected"}
        )
        if approved:
            kit.alias(MODEL, "champion", version)
        kit.checkpoint()


SCENARIO = Scenario(
    name="scheduled",
    title="Weekly retraining job (mlflow.source.type=JOB): five versions, each evaluated and approved",
    experiments=(EXPERIMENT,),
    registered_models=(MODEL,),
    build=build,
    labels=labels(
        data_1=none("only the inferred signature and dataset schema: types, no expectations"),
        data_2=none("no feature importance is logged"),
        model_1=automated("every version's run, launched by the job, names the git commit, five weeks running"),
        model_3=none("the same params every week: no search"),
        model_4=none("retraining weekly is not measuring how quality decays with age"),
        model_5=none("no baseline"),
        model_6=none("only overall test metrics"),
        infra_1=none("each week trains on new data: no two trainings share params and data"),
        infra_3=none("the job runs in production; no end-to-end test of the pipeline is recorded"),
        infra_4=automated(
            "each of the 5 weekly versions was evaluated and tagged validation_status=approved by the job"
        ),
        infra_6=none("champion moves straight to the new version, no challenger stage"),
        infra_7=none("older versions are kept, but no rollback or `previous` alias is recorded"),
        monitoring_2=none("no input checks"),
        monitoring_4=automated("a new version every 7 days from the job for 4 weeks; the serving one is days old"),
        monitoring_5=none("no numerical check is logged"),
        monitoring_6=none("no latency metric"),
        monitoring_7=none("the test metrics are on a held-out week before serving, not on served data"),
    ),
)
