"""Reading the files the real tools write, and refusing the ones that are not what they claim."""

from __future__ import annotations

import pytest

from integrations.reports.parsers import FAIL, PASS, PRESENT, SKIP, ReportError, parse

RULES = b"""
groups:
  - name: churn-model
    rules:
      - record: job:prediction_latency_seconds:p99
        expr: histogram_quantile(0.99, rate(prediction_latency_seconds_bucket[5m]))
      - alert: ChurnModelTooOld
        expr: time() - churn_model_trained_timestamp_seconds > 30 * 86400
        labels: {severity: page, ml_test_score: monitoring-4}
      - alert: ChurnPredictionLatencyHigh
        expr: job:prediction_latency_seconds:p99 > 0.2
"""


def test_pytest_junit_xml_gives_one_check_per_test_with_the_items_they_record(junit_report):
    parsed = parse("junit", junit_report(passing=False))
    by_name = {check.name.rsplit(".", 1)[-1]: check for check in parsed.checks}
    assert by_name["test_feature_schema_matches"].outcome == PASS
    assert by_name["test_feature_schema_matches"].items == ("data-1",)
    assert by_name["test_training_is_reproducible"].outcome == FAIL
    assert by_name["test_tokenizer_handles_empty_text"].items == ()
    assert parsed.reported_at is not None and parsed.reported_at.tzinfo is not None


def test_a_skipped_junit_test_is_neither_a_pass_nor_a_fail():
    xml = b'<testsuite name="s" tests="1"><testcase classname="t" name="x"><skipped/></testcase></testsuite>'
    assert parse("junit", xml).checks[0].outcome == SKIP


def test_great_expectations_validation_results_give_one_check_per_expectation(tool_reports):
    passing = parse("great_expectations", (tool_reports / "great_expectations_pass.json").read_bytes())
    failing = parse("great_expectations", (tool_reports / "great_expectations_fail.json").read_bytes())
    assert [c.outcome for c in passing.checks] == [PASS, PASS]
    assert [c.outcome for c in failing.checks] == [FAIL, FAIL]
    assert passing.checks[0].name == "churn-features: expect_column_values_to_not_be_null(tenure_months)"
    assert passing.checks[0].items == ("data-1",) and passing.checks[1].items == ()
    assert passing.reported_at is not None


def test_evidently_drift_tests_pass_on_stable_data_and_fail_on_drifted_data(tool_reports):
    stable = parse("evidently", (tool_reports / "evidently_stable.json").read_bytes())
    drift = parse("evidently", (tool_reports / "evidently_drift.json").read_bytes())
    assert stable.checks and all(c.outcome == PASS for c in stable.checks)
    assert any(c.outcome == FAIL for c in drift.checks)
    assert any("Drift" in c.name for c in drift.checks)


def test_prometheus_alert_rules_are_present_checks_and_recording_rules_are_left_out():
    parsed = parse("prometheus_rules", RULES)
    assert [(c.name, c.outcome, c.items) for c in parsed.checks] == [
        ("churn-model: ChurnModelTooOld", PRESENT, ("monitoring-4",)),
        ("churn-model: ChurnPredictionLatencyHigh", PRESENT, ()),
    ]


@pytest.mark.parametrize(
    "kind, data, says",
    [
        ("junit", b"<html><body>not a report</body></html>", "starts with <html>"),
        ("junit", b'{"results": []}', "not well-formed XML"),
        ("great_expectations", b"<testsuite/>", "not JSON"),
        ("great_expectations", b'{"tests": []}', "validation result"),
        ("evidently", b'{"results": []}', "save_json"),
        ("prometheus_rules", b"just: text", "groups"),
    ],
)
def test_a_file_that_is_not_the_declared_kind_is_refused_with_a_sentence(kind, data, says):
    with pytest.raises(ReportError, match=says):
        parse(kind, data)


def test_a_report_without_checks_is_refused():
    with pytest.raises(ReportError, match="no checks"):
        parse("junit", b'<testsuites><testsuite name="empty" tests="0"/></testsuites>')


def test_xml_external_entities_are_refused():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<testsuite><testcase name="&x;"/></testsuite>'
    )
    with pytest.raises(ReportError, match="DTD or entities"):
        parse("junit", xxe)


def test_an_entity_expansion_bomb_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">'.encode() for n in range(8))
        + b']><testsuite><testcase name="&i;"/></testsuite>'
    )
    with pytest.raises(ReportError, match="DTD or entities"):
        parse("junit", bomb)


def test_a_yaml_alias_bomb_in_a_rule_file_is_refused():
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\ngroups: [*b, *b]\n"
    with pytest.raises(ReportError, match="does not parse"):
        parse("prometheus_rules", bomb)
