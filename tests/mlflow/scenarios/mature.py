"""(b) A mature team: autolog, logged datasets, `mlflow.models.evaluate`, a baseline, sweeps, aliases, backtests.

Written the way MLflow's guides show it: `mlflow.sklearn.autolog()` records params and `training_*` metrics on
every fit; the training table is logged with `mlflow.log_input` (MLflow infers its schema and profile); each
candidate is evaluated with `mlflow.models.evaluate` under `metric_prefix` "val_" and "test_" (and once per
customer segment, "slice_large_"/"slice_small_"); a majority-class baseline is evaluated the same way; C is
tuned in a parent run with nested trials, tree depth in three top-level runs. A reviewer tags approved versions
`validation_status=approved`; the new version is `challenger` before it becomes `champion`. A weekly job
evaluates `models:/…@champion` on last week's customers in a backtest experiment. Runs carry the git commit.
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
    manual,
    none,
)

EXPERIMENT = "mature-churn"
BACKTESTS = "mature-churn-backtests"
MODEL = "mature-churn-classifier"
TARGET = "churned"


def _train(kit: Kit, experiment_id: str, name: str, estimator, train, *, days_ago: float, parent=None, commit=1,
           evaluate_on: dict | None = None, log_model: bool = True) -> tuple[str, str | None]:  # fmt: skip
    """One fit under autolog with the training table logged as a dataset, then `evaluate` of the logged model on
    each (metric_prefix → table) in the same run; returns (run id, logged model id)."""
    import mlflow

    from tests.mlflow.scenarios._kit import log_sklearn_model

    with kit.run(experiment_id, name, days_ago=days_ago, commit=commit_of(commit), parent=parent) as run:
        mlflow.log_input(mlflow.data.from_pandas(train, name="customers-train", targets=TARGET), context="training")
        estimator.fit(train[FEATURES], train[TARGET])
        model_id = log_sklearn_model(estimator, train[FEATURES]) if log_model else None  # trials log no model
        for prefix, frame in (evaluate_on or {}).items():
            evaluate(f"models:/{model_id}", frame, target=TARGET, model_type="classifier", prefix=prefix)
    return run.info.run_id, model_id


def build(kit: Kit) -> None:
    import mlflow
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    mlflow.sklearn.autolog(log_models=False, log_datasets=False, silent=True)
    backtests = kit.experiment(BACKTESTS)  # the backtest job's experiment exists before its first run
    experiment_id = kit.experiment(EXPERIMENT)
    train, val, test = churn_frame(1), churn_frame(2, 200), churn_frame(3, 300)

    # 62 days ago: a majority-class baseline, evaluated on the test table every candidate is evaluated on.
    _train(kit, experiment_id, "baseline-majority", DummyClassifier(), train, days_ago=62, evaluate_on={"test_": test})

    # 61 days ago: a sweep over C (parent run, nested trials) and one over tree depth (top-level runs).
    with kit.run(experiment_id, "sweep-logreg-C", days_ago=61, commit=commit_of(1)) as sweep:
        for c in (0.1, 1.0, 10.0):
            _train(kit, experiment_id, f"C={c}", LogisticRegression(C=c), train, days_ago=61, parent=sweep.info.run_id,
                   log_model=False)  # fmt: skip
    for depth in (2, 4, 8):
        _train(kit, experiment_id, f"tree-depth-{depth}", DecisionTreeClassifier(max_depth=depth, random_state=0),
               train, days_ago=60.5, log_model=False)  # fmt: skip

    # 60 days ago: v1, evaluated on the test table, approved, champion; rerun the next day to check it.
    run_id, model_id = _train(kit, experiment_id, "logreg-C1", LogisticRegression(C=1.0), train, days_ago=60,
                              evaluate_on={"test_": test})  # fmt: skip
    v1 = kit.register(run_id, model_id, MODEL, tags={"validation_status": "approved"})
    kit.alias(MODEL, "champion", v1)
    kit.checkpoint()
    _train(kit, experiment_id, "logreg-C1-rerun", LogisticRegression(C=1.0), train, days_ago=59)

    # 30 days ago: v2 on fresh data, also evaluated per customer segment; challenger first, then champion.
    fresh = churn_frame(4, 500)
    large, small = test[test["monthly_charges"] >= 70], test[test["monthly_charges"] < 70]
    segments = {"val_": val, "test_": test, "slice_large_": large, "slice_small_": small}
    run_id, model_id = _train(kit, experiment_id, "logreg-C1-oct", LogisticRegression(C=1.0), fresh, days_ago=30,
                              commit=2, evaluate_on=segments)  # fmt: skip
    v2 = kit.register(run_id, model_id, MODEL, tags={"validation_status": "approved"})
    kit.alias(MODEL, "challenger", v2)
    kit.checkpoint()
    kit.alias(MODEL, "champion", v2)
    kit.unalias(MODEL, "challenger")
    kit.checkpoint()

    # Weekly backtests of whatever is champion, on the customers of the past week, from a scheduled job.
    mlflow.set_experiment(experiment_id=backtests)
    for week, days_ago in enumerate((14, 7, 0)):
        with kit.run(backtests, f"backtest-week-{week + 1}", days_ago=days_ago, source="JOB",
                     source_name="jobs/backtest_champion"):  # fmt: skip
            evaluate(f"models:/{MODEL}@champion", churn_frame(10 + week, 300), target=TARGET, model_type="classifier")
    mlflow.sklearn.autolog(disable=True)


SCENARIO = Scenario(
    name="mature",
    title="Mature team: autolog, log_input, evaluate, baseline, sweeps, challenger, weekly backtests",
    experiments=(EXPERIMENT, BACKTESTS),
    registered_models=(MODEL,),
    build=build,
    labels=labels(
        data_1=none("the signature and log_input's schema/profile are inferred types and statistics, not expectations"),
        data_2=none("logistic regression under autolog logs no feature importance; SHAP is off"),
        model_1=automated("both registered versions, 30 days apart, were trained from a recorded git commit"),
        model_3=manual("C swept in a parent run with 3 nested trials and depth in 3 top-level runs, once, by hand"),
        model_4=none("backtests re-score the champion but no study compares models of different ages"),
        model_5=manual("a majority-class baseline was evaluated on the same test table (test_roc_auc) once"),
        model_6=manual("v2 was evaluated per customer segment (slice_large_, slice_small_); v1 was not"),
        infra_1=manual("logreg-C1 was rerun with the same params, commit and data the next day; metrics agree"),
        infra_4=automated("every registered version (2, 30 days apart) is evaluated and tagged validation_status"),
        infra_6=manual("v2 was challenger before it became champion; one promotion seen"),
        infra_7=none("v1 is kept, but no rollback or `previous` alias is recorded"),
        monitoring_2=none("no check of serving inputs is logged"),
        monitoring_4=none("two versions 30 days apart are not a retraining cadence"),
        monitoring_5=none("no numerical check is logged"),
        monitoring_6=none("no latency metric"),
        monitoring_7=automated("a job backtests the champion weekly on new customers, 3 runs over 14 days"),
    ),
)
