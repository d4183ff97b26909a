"""(f) A history that looks production-ready at a glance and is not.

A team iterates fast in a notebook: twelve training runs with `val_accuracy`/`val_f1_score` curves (computed,
by mistake, on the rows the model was fitted on), `mlflow.models.evaluate(metric_prefix="val_")` called on
the training table itself, a "baseline" run that is the very same configuration, "evaluation" runs with no
params that re-log the champion's numbers, a monitoring experiment re-scoring the champion on its training
table, version tags `validated=true` and run tags `reviewed=true` that nothing stands behind, and a
`challenger` alias left on the first version while `champion` moved twice. Three versions in three days.
"""

from __future__ import annotations

from tests.mlflow.scenarios._kit import FEATURES, Kit, Scenario, churn_frame, evaluate, labels, manual, none

EXPERIMENT = "shiny-churn"
MONITORING = "shiny-churn-monitoring"
MODEL = "shiny-churn"
TARGET = "churned"


def _fit(kit: Kit, experiment_id: str, name: str, c: float, train, *, days_ago: float, evaluate_on_train=False):
    import mlflow
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    from tests.mlflow.scenarios._kit import log_sklearn_model

    with kit.run(experiment_id, name, days_ago=days_ago, source="NOTEBOOK", source_name="/Users/kim/churn",
                 user="kim", tags={"reviewed": "true", "tested": "true"}) as run:  # fmt: skip
        mlflow.log_params({"C": c, "solver": "lbfgs"})
        mlflow.log_input(mlflow.data.from_pandas(train, name="customers", targets=TARGET), context="training")
        model = LogisticRegression(C=c).fit(train[FEATURES], train[TARGET])
        predicted = model.predict(train[FEATURES])
        accuracy, f1 = model.score(train[FEATURES], train[TARGET]), f1_score(train[TARGET], predicted)
        for epoch in range(3):  # the "validation curve", on the training rows
            kit.metrics(
                {"val_accuracy": accuracy - 0.01 * (2 - epoch), "val_f1_score": f1}, days_ago=days_ago, step=epoch
            )
        model_id = log_sklearn_model(model, train[FEATURES])
        if evaluate_on_train:
            evaluate(f"models:/{model_id}", train, target=TARGET, model_type="classifier", prefix="val_")
    return run.info.run_id, model_id


def build(kit: Kit) -> None:
    import mlflow

    monitoring = kit.experiment(MONITORING)
    experiment_id = kit.experiment(EXPERIMENT)
    train = churn_frame(42, 300)
    for n, c in enumerate((0.5, 1.0, 2.0, 0.5, 1.0, 2.0, 4.0, 1.0)):
        _fit(kit, experiment_id, f"iteration-{n}", c + n * 0.01, train, days_ago=4 - n * 0.1)
    versions = []
    for n, days_ago in enumerate((3, 2, 1)):
        run_id, model_id = _fit(kit, experiment_id, f"release-{n + 1}", 1.0, train, days_ago=days_ago,
                                evaluate_on_train=n == 2)  # fmt: skip
        versions.append(kit.register(run_id, model_id, MODEL, tags={"validated": "true"}))
        if n == 0:
            kit.alias(MODEL, "challenger", versions[0])
        kit.alias(MODEL, "champion", versions[-1])
        kit.checkpoint()
    # A "baseline": the same configuration again, under another name.
    _fit(kit, experiment_id, "baseline", 1.0, train, days_ago=0.9, evaluate_on_train=True)
    # "Evaluation" runs: no params, the champion's numbers re-logged for a dashboard.
    for n in range(3):
        with kit.run(experiment_id, f"eval-champion-{n}", days_ago=0.8 - n * 0.1, source="NOTEBOOK", user="kim"):
            kit.metrics({"accuracy_score": 0.91, "f1_score": 0.88, "roc_auc": 0.95}, days_ago=0.8 - n * 0.1)
    # "Monitoring": the champion re-scored on its own training table, two nights.
    for night in range(2):
        with kit.run(monitoring, f"nightly-monitor-{night}", days_ago=2 - night * 1.5, source="NOTEBOOK", user="kim"):
            evaluate(f"models:/{MODEL}@champion", train, target=TARGET, model_type="classifier")
    mlflow.set_experiment(experiment_id=experiment_id)


SCENARIO = Scenario(
    name="looks_good",
    title="Looks ready, is not: val_ on training rows, same-config baseline, stale challenger, empty tags",
    experiments=(EXPERIMENT, MONITORING),
    registered_models=(MODEL,),
    build=build,
    labels=labels(
        data_1=none("a types-only signature and an auto-inferred dataset schema are not expectations"),
        data_2=none("no feature importance"),
        model_1=none("notebook runs record no git commit"),
        model_3=manual("eight C values were tried by hand on one training table (scored on training rows, but tried)"),
        model_4=none("no staleness study"),
        model_5=none("the 'baseline' is the serving configuration itself, evaluated on the training table"),
        model_6=none("no slices"),
        infra_1=manual(
            "release-1..3 and 'baseline' are one config on one table and agree (the no-param eval runs do not count)"
        ),
        infra_4=none("val_ metrics and evaluate were computed on the training rows; validated=true is just a tag"),
        infra_6=none("`challenger` sits on v1, which never served after it; v3 went straight to champion"),
        infra_7=none("no `previous` alias and no rollback was ever done"),
        monitoring_2=none("no input checks"),
        monitoring_4=none("three versions in three days, then nothing: no cadence"),
        monitoring_5=none("no numerical check"),
        monitoring_6=none("no latency metric"),
        monitoring_7=none("the monitoring runs score the champion on its own training table, not served data"),
    ),
)
