"""Which rubric items a check backs, in this order:

1. the check names its item itself (`ml_test_score` property, meta, tag or label: see parsers);
2. the project's own mapping rules (shell-style patterns over the check's name → item code);
3. documented defaults where the kind of check says enough on its own (below).

A check that maps nowhere is listed as unmapped, so the team can add a rule for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from integrations.reports.parsers import Check


@dataclass(frozen=True)
class Rule:
    pattern: str
    item_code: str
    kind: str = ""  # "" applies to every kind


def _default_prometheus(check: Check) -> tuple[str, ...]:
    """Alert rules whose expression or name watches a standard serving signal."""
    text = f"{check.name} {check.detail}".lower()
    for pattern, item in _PROMETHEUS_DEFAULTS:
        if pattern.search(text):
            return (item,)
    return ()


# Ordered: the first signal found wins. Each names what the paper's monitoring test watches.
_PROMETHEUS_DEFAULTS = [
    (re.compile(r"model_?age|staleness|last_?(trained|training)|model_?version_?age"), "monitoring-4"),
    (re.compile(r"\bnan\b|is_?nan|_nan_|\binf(inity)?\b|numerical"), "monitoring-5"),
    (re.compile(r"latency|duration_seconds|_seconds_bucket|throughput|requests_per|memory|cpu_"), "monitoring-6"),
    (re.compile(r"drift|skew"), "monitoring-3"),
    (re.compile(r"accuracy|auc|precision|recall|prediction_?quality|calibration|label_?delay"), "monitoring-7"),
    (re.compile(r"schema|missing|null_?rate|out_?of_?range|invariant"), "monitoring-2"),
    (re.compile(r"dependency|upstream|feature_?source|source_?table"), "monitoring-1"),
]

_EVIDENTLY_DRIFT = ("ValueDrift", "DriftedColumnsCount", "DatasetDrift", "ColumnDrift")
_EVIDENTLY_QUALITY = ("Missing", "ColumnCount", "RowCount", "Duplicated", "Empty", "Constant", "OutRange", "InRange")


def _default_evidently(check: Check) -> tuple[str, ...]:
    """Drift between reference (training) and current (serving) data is the skew test; data-quality tests on
    current data are the input invariants."""
    metric = check.detail.split(" ", 1)[0]
    if metric.startswith(_EVIDENTLY_DRIFT) or "drift" in check.name.lower():
        return ("monitoring-3",)
    if any(word in metric for word in _EVIDENTLY_QUALITY):
        return ("monitoring-2",)
    return ()


def _default_great_expectations(check: Check) -> tuple[str, ...]:
    """An expectation suite is the schema of what features should look like, checked against real data."""
    return ("data-1",)


DEFAULTS = {
    "prometheus_rules": _default_prometheus,
    "evidently": _default_evidently,
    "great_expectations": _default_great_expectations,
}


class _Mapper:
    """The three steps with everything that does not depend on the check prepared once (reports can hold
    tens of thousands of checks)."""

    def __init__(self, kind: str, rules: Sequence[Rule], known: Iterable[str]) -> None:
        self.known = frozenset(known)
        self.rules = [
            (r.pattern.lower(), r.item_code) for r in rules if r.kind in ("", kind) and r.item_code in self.known
        ]
        self.default = DEFAULTS.get(kind)

    def items(self, check: Check) -> tuple[str, ...]:
        if check.items:
            own = tuple(code for code in check.items if code in self.known)
            if own:
                return own
        if self.rules:
            name = check.name.lower()
            mapped = tuple(dict.fromkeys(code for pattern, code in self.rules if fnmatchcase(name, pattern)))
            if mapped:
                return mapped
        if self.default is None:
            return ()
        return tuple(code for code in self.default(check) if code in self.known)


def map_checks(
    checks: Sequence[Check], *, kind: str, rules: Sequence[Rule], known: Iterable[str]
) -> dict[int, tuple[str, ...]]:
    """Check index → item codes, for the checks that map somewhere."""
    mapper = _Mapper(kind, rules, known)
    result = {}
    for index, check in enumerate(checks):
        items = mapper.items(check)
        if items:
            result[index] = items
    return result
