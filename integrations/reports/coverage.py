"""Which sources can back each of the 28 items automatically, and by which convention.

One table, read by the coverage page and checked against the README's table by a test. MLflow's column
comes from its registered rules; the CI report columns are the conventions the mapping reads
(integrations.reports.mapping): a check naming its item, or a documented default.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# item → {source: convention}. JUnit entries are tests a team runs in CI and names with the marker
# `@pytest.mark.ml_test_score("<item>")` (or the `ml_test_score` property); the wording says what test.
REPORT_CONVENTIONS: dict[str, dict[str, object]] = {
    "data-1": {
        "great_expectations": _("an expectation suite over the training data (default)"),
        "evidently": _("data-quality tests with the item's tag"),
    },
    "data-2": {"junit": _("a feature-ablation test that fails when a feature adds nothing")},
    "data-3": {"junit": _("a test of each feature's latency, memory or cost budget")},
    "data-4": {"junit": _("a test of feature requirements (owners, allowed sources)")},
    "data-5": {
        "junit": _("a test that no personal data reaches training"),
        "great_expectations": _("expectations on personal columns, named data-5 in meta"),
    },
    "data-7": {"junit": _("unit tests of feature code")},
    "model-2": {"junit": _("a test correlating offline metrics with online ones")},
    "model-4": {"junit": _("a test measuring the quality loss of an older model")},
    "model-5": {"junit": _("a test comparing the model with a simple baseline")},
    "model-6": {"junit": _("quality tests per important data slice")},
    "model-7": {"junit": _("fairness or inclusion tests per group")},
    "infra-1": {"junit": _("a test that trains twice and compares the models")},
    "infra-2": {"junit": _("unit tests of the model specification")},
    "infra-3": {"junit": _("an end-to-end test of the training pipeline")},
    "infra-4": {"junit": _("the validation gate that runs before a model is pushed")},
    "infra-5": {"junit": _("a test that steps one example through the model")},
    "infra-6": {"junit": _("the canary check of the deployment pipeline")},
    "infra-7": {"junit": _("a rollback drill in the deployment pipeline")},
    "monitoring-1": {"prometheus_rules": _("an alert on upstream data or dependency changes (default)")},
    "monitoring-2": {
        "evidently": _("data-quality tests on serving data (default)"),
        "great_expectations": _("expectations run on serving data, named monitoring-2"),
        "prometheus_rules": _("an alert on schema, missing or out-of-range inputs (default)"),
    },
    "monitoring-3": {
        "evidently": _("a drift test between training and serving data (default)"),
        "prometheus_rules": _("an alert on drift or skew (default)"),
    },
    "monitoring-4": {"prometheus_rules": _("an alert on model age (default)")},
    "monitoring-5": {
        "prometheus_rules": _("an alert on NaN or infinite values (default)"),
        "junit": _("a test that training stays numerically stable"),
    },
    "monitoring-6": {"prometheus_rules": _("an alert on latency, throughput or memory (default)")},
    "monitoring-7": {"prometheus_rules": _("an alert on prediction quality (default)")},
}


def coverage() -> dict[str, dict[str, str]]:
    """item → {source: convention} for every item some source can back, MLflow included."""
    from integrations.mlflow.ruleset import RULES

    table: dict[str, dict[str, str]] = {}
    for code, rule in RULES.items():
        table.setdefault(code, {})["mlflow"] = str(rule.how_to).split(". ")[0].rstrip(".")
    for code, conventions in REPORT_CONVENTIONS.items():
        for source, text in conventions.items():
            table.setdefault(code, {})[source] = str(text)
    return table
