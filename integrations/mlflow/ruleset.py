"""Every MLflow evidence rule, listed explicitly in the rubric's order, and running them over a snapshot.

Adding a rule: write it with ``@rule(...)`` in the module of its section and add it to that module's tuple;
nothing is registered by importing a module.
"""

from __future__ import annotations

from integrations.mlflow.facts import Snapshot
from integrations.mlflow.rulebook import Rule, Verdict
from integrations.mlflow.rules import DATA_AND_MODEL_RULES
from integrations.mlflow.rules_infra import INFRA_RULES
from integrations.mlflow.rules_monitoring import MONITORING_RULES


def _by_item(*rules: Rule) -> dict[str, Rule]:
    by_item: dict[str, Rule] = {}
    for listed in rules:
        if listed.item in by_item:
            raise ValueError(f"Two MLflow rules claim the rubric item {listed.item}.")
        by_item[listed.item] = listed
    return by_item


RULES: dict[str, Rule] = _by_item(*DATA_AND_MODEL_RULES, *INFRA_RULES, *MONITORING_RULES)


def evaluate(snapshot: Snapshot) -> dict[str, Verdict]:
    return {code: listed.check(snapshot) for code, listed in RULES.items()}
