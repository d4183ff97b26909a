"""(e) A champion/challenger period: each new model is `challenger` and shadow-scored against `champion` first.

Over two months a fraud team trains three candidates by hand. Each new version gets the `challenger` alias;
for the next weeks a shadow job scores `champion` and `challenger` on the same week of transactions
(`mlflow.models.evaluate` twice in one run, `metric_prefix` "champion_" and "challenger_", each evaluate
linked to the version it scored). When the challenger holds up, it becomes `champion`, the old one keeps
`previous`, and `challenger` is removed. The last candidate is still a challenger today. mlaudit hears of
the alias moves through registry webhooks, recorded at the time each happened.
"""

from __future__ import annotations

from tests.mlflow.scenarios._kit import FEATURES, Kit, Scenario, churn_frame, evaluate, labels, manual, none

EXPERIMENT = "fraud-training"
SHADOW = "fraud-shadow-scoring"
MODEL = "fraud-detector"
TARGET = "churned"  # the kit's table; here read as "the transaction was fraud"


def _candidate(kit: Kit, experiment_id: str, name: str, c: float, seed: int, *, days_ago: float) -> str:
    import mlflow
    from sklearn.linear_model import LogisticRegression

    from tests.mlflow.scenarios._kit import log_sklearn_model

    train = churn_frame(seed, 300)
    with kit.run(experiment_id, name, days_ago=days_ago, source="NOTEBOOK", source_name="/Repos/fraud/train",
                 user="sam") as run:  # fmt: skip
        mlflow.log_params({"C": c, "class_weight": "balanced"})
        mlflow.log_input(
            mlflow.data.from_pandas(train, name=f"transactions-{seed}", targets=TARGET), context="training"
        )
        model = LogisticRegression(C=c, class_weight="balanced").fit(train[FEATURES], train[TARGET])
        model_id = log_sklearn_model(model, train[FEATURES])
    return kit.register(run.info.run_id, model_id, MODEL)


def _shadow(kit: Kit, experiment_id: str, week: int, *, days_ago: float) -> None:
    """Score champion and challenger on the same week, each evaluate naming the version it scored."""
    scored = churn_frame(500 + week, 200)
    with kit.run(experiment_id, f"shadow-week-{week}", days_ago=days_ago, source="NOTEBOOK",
                 source_name="/Repos/fraud/shadow", user="sam"):  # fmt: skip
        for alias in ("champion", "challenger"):
            version = kit.client.get_model_version_by_alias(MODEL, alias).version
            evaluate(f"models:/{MODEL}/{version}", scored, target=TARGET, model_type="classifier", prefix=f"{alias}_")


def build(kit: Kit) -> None:
    training, shadow = kit.experiment(EXPERIMENT), kit.experiment(SHADOW)
    v1 = _candidate(kit, training, "lr-C0.3", 0.3, 1, days_ago=63)
    kit.alias(MODEL, "champion", v1, days_ago=62)

    v2 = _candidate(kit, training, "lr-C1", 1.0, 2, days_ago=42)
    kit.alias(MODEL, "challenger", v2, days_ago=41)
    _shadow(kit, shadow, 1, days_ago=38)
    kit.alias(MODEL, "champion", v2, days_ago=30)
    kit.alias(MODEL, "previous", v1, days_ago=30)
    kit.unalias(MODEL, "challenger", days_ago=30)

    v3 = _candidate(kit, training, "lr-C3", 3.0, 3, days_ago=21)
    kit.alias(MODEL, "challenger", v3, days_ago=20)
    _shadow(kit, shadow, 3, days_ago=17)
    kit.alias(MODEL, "champion", v3, days_ago=14)
    kit.alias(MODEL, "previous", v2, days_ago=14)
    kit.unalias(MODEL, "challenger", days_ago=14)

    v4 = _candidate(kit, training, "lr-C10", 10.0, 4, days_ago=5)
    kit.alias(MODEL, "challenger", v4, days_ago=4)
    _shadow(kit, shadow, 4, days_ago=2)


SCENARIO = Scenario(
    name="champion_challenger",
    title="Champion/challenger: three promotions after shadow scoring, alias history from webhooks",
    experiments=(EXPERIMENT, SHADOW),
    registered_models=(MODEL,),
    build=build,
    webhooks=True,
    labels=labels(
        data_1=none("types-only signature and inferred dataset schema"),
        data_2=none("no feature importance"),
        model_1=none("trained from a notebook; no git commit is recorded"),
        model_3=none("one C per candidate, weeks apart, each on new data: not a search"),
        model_4=none("no staleness study"),
        model_5=none("no baseline"),
        model_6=none("no slices"),
        infra_1=none("no candidate was trained twice the same way"),
        infra_4=manual("v2 and v3 were shadow-scored with evaluate before promotion, by hand, v1 never"),
        infra_6=manual("v2 and v3 were challengers before serving (2 of the 3 serving versions), moved by a person"),
        infra_7=manual("v2 keeps the `previous` alias and its artifacts, ready for a rollback"),
        monitoring_2=none("no input checks"),
        monitoring_4=manual("a new version every 3 weeks keeps the champion under 30 days old, trained by hand"),
        monitoring_5=none("no numerical check"),
        monitoring_6=none("no latency metric"),
        monitoring_7=none("shadow scoring compares two models at promotion time, it does not watch the champion"),
    ),
)
