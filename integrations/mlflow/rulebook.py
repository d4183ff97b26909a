"""The plumbing of the evidence rules: the Verdict a rule returns, the registry and shared helpers.

The rules themselves are in integrations.mlflow.rules (features, data and model development) and
integrations.mlflow.rules_infra (infrastructure and monitoring).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext

from integrations.mlflow.facts import (
    RunFact,
    Snapshot,
    VersionFact,
)

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
DAY_MS = 86_400_000


class Wording(str):
    """A reason in the active language that remembers its message and values.

    A worker has no reader, so its language is arbitrary; the sync stores each reason in every interface
    language by re-translating the message (in_language), without running the rule again.
    """

    message: str
    values: dict[str, Any]

    def format(self, *args: Any, **values: Any) -> Wording:
        if args:  # rules name every value; a positional one could not be re-translated
            raise TypeError("Reasons take named values only.")
        return _wording(self.message, values)

    def in_language(self, language: str) -> str:
        with translation.override(language):
            text = gettext(self.message)
        return text.format(**self.values) if self.values else text


def _wording(message: str, values: dict[str, Any]) -> Wording:
    text = gettext(message)
    wording = Wording(text.format(**values) if values else text)
    wording.message, wording.values = message, values
    return wording


def _(message: str) -> Wording:
    """gettext for rule reasons (makemessages finds these calls by the name `_`)."""
    return _wording(message, {})


@dataclass(frozen=True)
class Verdict:
    result: str
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    item: str
    how_to: Promise
    check: Callable[[Snapshot], Verdict]


RULES: dict[str, Rule] = {}


def rule(item: str, how_to: Promise) -> Callable[[Callable[[Snapshot], Verdict]], Callable[[Snapshot], Verdict]]:
    def register(check: Callable[[Snapshot], Verdict]) -> Callable[[Snapshot], Verdict]:
        RULES[item] = Rule(item=item, how_to=how_to, check=check)
        return check

    return register


def evaluate(snapshot: Snapshot) -> dict[str, Verdict]:
    return {code: registered.check(snapshot) for code, registered in RULES.items()}


def no_serving(s: Snapshot) -> Verdict:
    return Verdict(
        UNKNOWN,
        _("No registered version carries the alias “{alias}” or the Production stage.").format(alias=s.serving_alias),
    )


def serving_and_run(s: Snapshot) -> tuple[VersionFact | None, RunFact | None, Verdict | None]:
    serving = s.serving()
    if serving is None:
        return None, None, no_serving(s)
    run = s.run(serving.run_id)
    if run is None:
        return (
            serving,
            None,
            Verdict(
                UNKNOWN,
                _(
                    "The run {run} of {model} v{version} is not in the synced experiments; "
                    "add its experiment to the connection."
                ).format(run=serving.run_id or "(none)", model=serving.model_name, version=serving.version),
                links=(s.version_link(serving),),
            ),
        )
    return serving, run, None


def at_least_as_good(s: Snapshot, new: float, old: float, tolerance: float) -> bool:
    """Is `new` at least as good as `old`, allowing a relative tolerance?"""
    slack = abs(old) * tolerance
    return new >= old - slack if s.t("higher_is_better") else new <= old + slack


def compare_with_previous(
    s: Snapshot, metric: str, tolerance: float, *, lower_is_better: bool, same_dataset: bool
) -> Verdict:
    serving, run, missing = serving_and_run(s)
    if missing or serving is None or run is None:
        return missing or no_serving(s)
    previous = s.previous_serving(serving)
    if previous is None:
        return Verdict(
            UNKNOWN, _("There is no previous serving version to compare with."), links=(s.version_link(serving),)
        )
    old_run = s.run(previous.run_id)
    links: tuple[str, ...] = (s.version_link(serving), s.version_link(previous))
    if old_run is None:
        return Verdict(
            UNKNOWN,
            _("The run of the previous version v{previous} was not synced.").format(previous=previous.version),
            links=links,
        )
    links += (s.run_link(run), s.run_link(old_run))
    if same_dataset and not (run.dataset_digests & old_run.dataset_digests):
        return Verdict(
            UNKNOWN,
            _("v{version} and v{previous} were not evaluated on the same dataset.").format(
                version=serving.version, previous=previous.version
            ),
            links=links,
        )
    if metric not in run.metrics or metric not in old_run.metrics:
        return Verdict(
            UNKNOWN,
            _("“{metric}” is missing from the serving or the previous version's run.").format(metric=metric),
            {"metric": metric},
            links,
        )
    new, old = run.metrics[metric], old_run.metrics[metric]
    facts = {"metric": metric, "serving": new, "previous": old, "tolerance": tolerance}
    slack = abs(old) * tolerance
    ok = new <= old + slack if lower_is_better else at_least_as_good(s, new, old, tolerance)
    if ok:
        return Verdict(
            PASS,
            _("{metric}: v{version} {serving_value} vs v{previous} {previous_value}, no regression.").format(
                metric=metric,
                version=serving.version,
                serving_value=format(new, ".4g"),
                previous=previous.version,
                previous_value=format(old, ".4g"),
            ),
            facts,
            links,
        )
    return Verdict(
        FAIL,
        _("{metric} regressed: v{version} {serving_value} vs v{previous} {previous_value}.").format(
            metric=metric,
            version=serving.version,
            serving_value=format(new, ".4g"),
            previous=previous.version,
            previous_value=format(old, ".4g"),
        ),
        facts,
        links,
    )
