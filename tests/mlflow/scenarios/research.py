"""(c) A research project: a notebook logging metrics only, across a few weeks.

No params, no model, no registry, no datasets: people log losses and scores while they explore. Every
metric is finite. Nothing here is production evidence, so no item should be suggested.
"""

from __future__ import annotations

from tests.mlflow.scenarios._kit import Kit, Scenario, labels, none

EXPERIMENT = "research-embeddings"


def build(kit: Kit) -> None:
    experiment_id = kit.experiment(EXPERIMENT)
    for n in range(8):
        days_ago = 30 - n * 3
        with kit.run(
            experiment_id,
            f"explore-{n}",
            days_ago=days_ago,
            source="NOTEBOOK",
            source_name="/Users/li/explore.ipynb",
            user="li",
        ):
            for epoch in range(5):
                loss = 1.0 / (epoch + 2 + n * 0.1)
                kit.metrics({"loss": loss, "accuracy": 0.6 + n * 0.02 + epoch * 0.01}, days_ago=days_ago, step=epoch)
            kit.metrics({"val_loss": 0.5 - n * 0.01, "val_accuracy": 0.7 + n * 0.01}, days_ago=days_ago)


SCENARIO = Scenario(
    name="research",
    title="Research notebook: metrics only, no params, no models",
    experiments=(EXPERIMENT,),
    registered_models=(),
    build=build,
    labels=labels(
        data_1=none("no signature, schema or expectations"),
        data_2=none("no feature's contribution is measured"),
        model_1=none("notebook runs without a git commit: nothing is checked in"),
        model_3=none("runs have no params: nothing shows a search"),
        model_4=none("no model, no staleness study"),
        model_5=none("no baseline"),
        model_6=none("no slice metrics"),
        infra_1=none("no params or data inputs: nothing shows two equal trainings"),
        infra_4=none("val_ metrics of exploration are not a gate before serving; nothing serves"),
        infra_6=none("no registry, nothing serves"),
        infra_7=none("no registry, nothing serves"),
        monitoring_2=none("no input checks"),
        monitoring_4=none("nothing serves"),
        monitoring_5=none("finite metrics are mlaudit's observation, not a check by the team"),
        monitoring_6=none("no computing-performance metric"),
        monitoring_7=none("nothing serves, so no served-data quality"),
    ),
)
