"""Read the reports CI pushes into plain checks: JUnit XML, Great Expectations, Evidently, Prometheus rules.

Pure functions over bytes, so they are tested on files the real tools wrote. Each check keeps the name the
tool gave it, its outcome and, when the check names its rubric item itself, that item
(`ml_test_score` as a JUnit property, an expectation's meta, an Evidently tag, a Prometheus rule label).
A file that is not the declared kind raises ReportError with a sentence saying what was found instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

ITEM_KEY = "ml_test_score"  # the one name every kind of report uses to name its rubric item

PASS, FAIL, SKIP, PRESENT = "pass", "fail", "skip", "present"  # PRESENT: an alert rule exists (not a run result)


class ReportError(ValueError):
    """The file cannot be read as the declared kind; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class Check:
    name: str
    outcome: str  # PASS, FAIL, SKIP or PRESENT
    items: tuple[str, ...] = ()  # item codes the check names itself
    detail: str = ""  # the tool's own words (expression, failure message), shortened

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "outcome": self.outcome, "items": list(self.items), "detail": self.detail}


@dataclass(frozen=True)
class Parsed:
    checks: list[Check]
    reported_at: datetime | None = None  # the report's own time; the upload time is the fallback
    facts: dict[str, Any] = field(default_factory=dict)


def _items(value: Any) -> tuple[str, ...]:
    """`data-3`, `data-3, model-1` or a list of them, lower-cased; anything else names nothing."""
    if isinstance(value, str):
        parts = value.replace(";", ",").split(",")
    elif isinstance(value, (list, tuple)):
        parts = [str(part) for part in value]
    else:
        return ()
    return tuple(dict.fromkeys(part.strip().lower() for part in parts if part.strip()))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _short(text: Any, limit: int = 300) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json(data: bytes, kind: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ReportError(f"A {kind} report is JSON; this file is not JSON.") from None


# JUnit XML (pytest --junitxml, Jest, Maven Surefire, gotestsum) ------------------------------------------


def parse_junit(data: bytes) -> Parsed:
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise ReportError("The XML declares a DTD or entities, which a JUnit report never needs; refused.") from None
    except SafeET.ParseError as error:
        raise ReportError(f"A junit report is XML; this file is not well-formed XML ({error}).") from None
    if root.tag not in {"testsuites", "testsuite"}:
        raise ReportError(f"A junit report starts with <testsuites> or <testsuite>; this one starts with <{root.tag}>.")
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    checks: list[Check] = []
    times: list[datetime] = []
    for suite in suites:
        if (moment := _time(suite.get("timestamp"))) is not None:
            times.append(moment)
        suite_items = _junit_items(suite.find("properties"))
        for case in suite.findall("testcase"):
            classname, test = case.get("classname"), case.get("name")
            name = f"{classname}.{test}" if classname and test else (test or classname or "(unnamed)")
            # One pass over the case's children (a report may hold tens of thousands of cases).
            outcome, detail = PASS, ""
            own: tuple[str, ...] = ()
            for child in case:
                tag = child.tag
                if tag in ("failure", "error"):
                    outcome, detail = FAIL, child.get("message") or child.text or ""
                elif tag == "skipped" and outcome == PASS:
                    outcome = SKIP
                elif tag == "properties":
                    own = _junit_items(child)
            items = tuple(dict.fromkeys((*own, *suite_items))) if own and suite_items else (own or suite_items)
            checks.append(Check(name, outcome, items, _short(detail) if detail else ""))
    return Parsed(checks=checks, reported_at=max(times) if times else None)


def _junit_items(properties: Any) -> tuple[str, ...]:
    if properties is None:
        return ()
    found: list[str] = []
    for prop in properties.findall("property"):
        if prop.get("name") == ITEM_KEY:
            found.extend(_items(prop.get("value") or prop.text or ""))
    return tuple(found)


# Great Expectations (a validation result, a list of them, or a checkpoint result) -------------------------


def parse_great_expectations(data: bytes) -> Parsed:
    document = _json(data, "great_expectations")
    results = _ge_validation_results(document)
    if results is None:
        raise ReportError(
            "A great_expectations report is a validation result (its to_json_dict()), a list of them or a "
            "checkpoint result; this JSON has none of their fields (results, run_results)."
        )
    checks: list[Check] = []
    times: list[datetime] = []
    for result in results:
        meta = _dict(result.get("meta"))
        run_id = _dict(meta.get("run_id"))
        moment = _time(run_id.get("run_time")) or _time(meta.get("validation_time"))
        if moment is not None:
            times.append(moment)
        suite = result.get("suite_name") or meta.get("expectation_suite_name") or "suite"
        for entry in result.get("results") or []:
            if not isinstance(entry, dict):
                continue
            config = _dict(entry.get("expectation_config"))
            kind = config.get("type") or config.get("expectation_type") or "expectation"
            kwargs = _dict(config.get("kwargs"))
            target = kwargs.get("column") or ",".join(map(str, kwargs.get("column_list") or [])) or ""
            name = f"{suite}: {kind}({target})" if target else f"{suite}: {kind}"
            exception = _dict(entry.get("exception_info"))
            outcome = PASS if entry.get("success") is True else FAIL
            config_meta = _dict(config.get("meta"))
            checks.append(
                Check(
                    name=_short(name, 200),
                    outcome=outcome,
                    items=_items(config_meta.get(ITEM_KEY)),
                    detail=_short(exception.get("exception_message") or ""),
                )
            )
    return Parsed(checks=checks, reported_at=max(times) if times else None)


def _ge_validation_results(document: Any) -> list[dict] | None:
    if isinstance(document, list):
        found = [part for part in document if isinstance(part, dict) and "results" in part]
        return found if found else None
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("results"), list):
        return [document]
    runs = document.get("run_results")
    if isinstance(runs, dict):  # a checkpoint result: {validation id: {"validation_result": {...}} or {...}}
        results = []
        for run in runs.values():
            if isinstance(run, dict):
                inner = run.get("validation_result", run)
                if isinstance(inner, dict) and isinstance(inner.get("results"), list):
                    results.append(inner)
        return results
    return None


# Evidently (a snapshot's json(): {"metrics": [...], "tests": [...]}, optionally with its tags) ------------

_EVIDENTLY_OUTCOMES = {"SUCCESS": PASS, "FAIL": FAIL, "WARNING": FAIL, "ERROR": FAIL, "SKIPPED": SKIP}


def parse_evidently(data: bytes) -> Parsed:
    document = _json(data, "evidently")
    if not isinstance(document, dict) or not isinstance(document.get("tests"), list):
        found = sorted(document)[:5] if isinstance(document, dict) else type(document).__name__
        raise ReportError(
            "An evidently report is a Report run with tests, saved with snapshot.save_json() (fields "
            f"“metrics” and “tests”); this JSON has {found}."
        )
    # Tags are not part of save_json(); a report may carry them beside (dump_dict()["tags"]).
    report_items = tuple(item for tag in document.get("tags") or [] if isinstance(tag, str) for item in _tag_items(tag))
    checks: list[Check] = []
    for test in document["tests"]:
        if not isinstance(test, dict):
            continue
        config = _dict(test.get("metric_config"))
        params = _dict(config.get("params"))
        metric_type = str(params.get("type") or "")
        outcome = _EVIDENTLY_OUTCOMES.get(str(test.get("status", "")).upper(), FAIL)
        checks.append(
            Check(
                name=_short(test.get("name") or metric_type or "test", 200),
                outcome=outcome,
                items=report_items,
                detail=_short(f"{metric_type.rsplit(':', 1)[-1]} {test.get('description') or ''}".strip()),
            )
        )
    return Parsed(checks=checks, reported_at=_time(document.get("timestamp")))


def _tag_items(tag: str) -> tuple[str, ...]:
    key, _sep, value = tag.partition(":")
    return _items(value) if key.strip() == ITEM_KEY and value else ()


# Prometheus alerting rules (the rule file a deploying pipeline applies) ----------------------------------


def parse_prometheus_rules(data: bytes) -> Parsed:
    try:
        # A rule file has no anchors; refusing aliases closes the expansion bomb that YAML allows.
        document = yaml.load(data, Loader=_NoAliasLoader)
    except yaml.YAMLError as error:
        raise ReportError(
            f"A prometheus_rules report is a YAML rule file; this one does not parse ({error})."
        ) from None
    groups = document.get("groups") if isinstance(document, dict) else None
    if not isinstance(groups, list):
        # PrometheusRule custom resources (prometheus-operator) keep the groups under spec.
        spec = document.get("spec") if isinstance(document, dict) else None
        groups = spec.get("groups") if isinstance(spec, dict) else None
    if not isinstance(groups, list):
        raise ReportError(
            "A prometheus_rules report has a top-level “groups” list (or spec.groups); this one has none."
        )
    checks: list[Check] = []
    for group in groups:
        if not isinstance(group, dict):
            continue
        for rule in group.get("rules") or []:
            if not isinstance(rule, dict) or not rule.get("alert"):
                continue  # recording rules compute series; only alerts tell someone
            labels = _dict(rule.get("labels"))
            checks.append(
                Check(
                    name=_short(f"{group.get('name') or 'rules'}: {rule['alert']}", 200),
                    outcome=PRESENT,
                    items=_items(labels.get(ITEM_KEY)),
                    detail=_short(rule.get("expr") or ""),
                )
            )
    return Parsed(checks=checks)


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases are not allowed in a rule file")
        return super().compose_node(parent, index)


PARSERS = {
    "junit": parse_junit,
    "great_expectations": parse_great_expectations,
    "evidently": parse_evidently,
    "prometheus_rules": parse_prometheus_rules,
}


def parse(kind: str, data: bytes) -> Parsed:
    parsed = PARSERS[kind](data)
    if not parsed.checks:
        raise ReportError(f"This {kind} report holds no checks; there is nothing to record.")
    return parsed
