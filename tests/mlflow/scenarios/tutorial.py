"""(a) The classic ElasticNet wine tutorial, run twice by hand, with the better version aliased `champion`.

Modelled on MLflow's `examples/sklearn_elasticnet_wine/train.py`: `python train.py <alpha> <l1_ratio>`
logs two params and rmse/r2/mae on a test split, and logs the model with a signature and
`registered_model_name`, so every run becomes a version. Then the person points `champion` at the best.
"""

from __future__ import annotations

from tests.mlflow.scenarios._kit import Kit, Scenario, commit_of, labels, manual, none

EXPERIMENT = "tutorial-wine"
MODEL = "tutorial-ElasticnetWineModel"


def build(kit: Kit) -> None:
    import mlflow
    import numpy as np
    from sklearn.datasets import load_wine
    from sklearn.linear_model import ElasticNet
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
    from sklearn.model_selection import train_test_split

    from tests.mlflow.scenarios._kit import log_sklearn_model

    wine = load_wine(as_frame=True)
    features, quality = wine.data, wine.target.astype(float)
    train_x, test_x, train_y, test_y = train_test_split(features, quality, random_state=42)
    experiment_id = kit.experiment(EXPERIMENT)
    versions = []
    for days_ago, (alpha, l1_ratio) in ((9, (0.5, 0.5)), (8, (0.2, 0.8))):
        with kit.run(experiment_id, "", days_ago=days_ago, source_name="train.py", commit=commit_of(1)) as run:
            model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42).fit(train_x, train_y)
            predicted = model.predict(test_x)
            mlflow.log_param("alpha", alpha)
            mlflow.log_param("l1_ratio", l1_ratio)
            kit.metrics(
                {
                    "rmse": float(np.sqrt(mean_squared_error(test_y, predicted))),
                    "r2": float(r2_score(test_y, predicted)),
                    "mae": float(mean_absolute_error(test_y, predicted)),
                },
                days_ago=days_ago,
            )
            model_id = log_sklearn_model(model, train_x)
        versions.append(kit.register(run.info.run_id, model_id, MODEL))
    kit.alias(MODEL, "champion", versions[-1])


SCENARIO = Scenario(
    name="tutorial",
    title="ElasticNet wine tutorial, two hand runs, `champion` on the second",
    experiments=(EXPERIMENT,),
    registered_models=(MODEL,),
    build=build,
    labels=labels(
        data_1=none("the signature lists column types only; no ranges or distributions are written down"),
        data_2=none("no feature's contribution is measured"),
        model_1=manual("the serving version's run names the git commit of the script it was trained from"),
        model_3=none("two hand-picked settings of alpha and l1_ratio are not a hyperparameter search"),
        model_4=none("nothing measures quality against model age (the version's age is mlaudit's observation)"),
        model_5=none("no simpler baseline was trained or compared"),
        model_6=none("only global test metrics; no slice"),
        infra_1=none("the two runs differ in their params; nothing was trained twice the same way"),
        infra_4=none("the champion was picked by hand; no validation result or gate is recorded"),
        infra_6=none("no challenger or canary stage before `champion`"),
        infra_7=none("a second version exists, but no rollback target or rollback is recorded"),
        monitoring_2=none("no check of serving inputs is logged"),
        monitoring_4=none("one-off training; the model's age is an observation, not a watch by the team"),
        monitoring_5=none("no NaN or infinity check is logged; a clean metric is mlaudit's observation"),
        monitoring_6=none("no computing-performance metric is tracked"),
        monitoring_7=none("no quality measurement on served data"),
    ),
)
