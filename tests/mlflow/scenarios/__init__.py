"""The labelled scenario corpus: MLflow histories built with MLflow's real client, each with the expected
result per rubric item next to it. `harness` builds them on a server, syncs mlaudit and scores the findings.

Labels follow the paper (docs: bench/README.md, "Evidence quality"), not what mlaudit's rules do today.
"""

from __future__ import annotations

from tests.mlflow.scenarios import champion_challenger, looks_good, mature, research, scheduled, tutorial
from tests.mlflow.scenarios._kit import ITEM_CODES, Label, Scenario

SCENARIOS: tuple[Scenario, ...] = (
    tutorial.SCENARIO,
    mature.SCENARIO,
    research.SCENARIO,
    scheduled.SCENARIO,
    champion_challenger.SCENARIO,
    looks_good.SCENARIO,
)

__all__ = ["ITEM_CODES", "SCENARIOS", "Label", "Scenario"]
