"""CI pushes reports: stored once per run, mapped to items, and levels that follow the runs over time."""

from __future__ import annotations

import gzip
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from audits.api.tokens import api_token_create
from integrations.reports.models import Report, ReportMapping

URL = "/api/v1/projects/search-ranking/reports/"


def push(client, data: bytes, kind: str = "junit", name: str = "report.xml", **fields: str):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(URL, {"kind": kind, "file": upload, **fields}, format="multipart")


def finding(body: dict, item: str) -> dict:
    return next(f for f in body["findings"] if f["item"] == item)


def test_a_pushed_junit_report_maps_the_tests_that_name_their_items(client_as, project, junit_report):
    response = push(client_as("editor"), junit_report(), run_id="101", run_url="https://ci.example.com/runs/101")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "junit" and body["run_id"] == "101" and body["created"] is True
    assert body["checks"] == 3 and body["mapped"] == 2
    assert body["unmapped"] == ["test_ml.test_tokenizer_handles_empty_text"]
    data_1 = finding(body, "data-1")
    assert data_1 == {**data_1, "source": "junit", "result": "pass", "suggested_status": "manual"}
    assert data_1["links"] == ["https://ci.example.com/runs/101"]


def test_the_same_ci_run_posted_twice_is_stored_once(client_as, project, junit_report):
    client = client_as("editor")
    assert push(client, junit_report(), run_id="7").status_code == 201
    again = push(client, junit_report(), run_id="7")
    assert again.status_code == 200 and again.json()["created"] is False
    assert Report.objects.filter(project=project).count() == 1


def test_three_ci_runs_over_a_week_move_an_item_from_manual_to_automated_and_a_failing_run_to_fail(
    client_as, project, junit_report
):
    client = client_as("editor")
    now = timezone.now()
    levels = []
    for n, days_ago in enumerate((8, 4, 0), start=1):
        body = push(client, junit_report(at=now - timedelta(days=days_ago)), run_id=f"run-{n}").json()
        levels.append(finding(body, "infra-1")["suggested_status"])
    assert levels == ["manual", "manual", "automated"]
    automated = finding(body, "infra-1")
    assert "3 of the last 3 runs" in automated["reason"] and "8 days" in automated["reason"]

    failed = push(client, junit_report(passing=False, at=now), run_id="run-4", run_url="https://ci.example.com/4")
    infra_1 = finding(failed.json(), "infra-1")
    assert (infra_1["result"], infra_1["suggested_status"]) == ("fail", None)
    assert infra_1["links"] == ["https://ci.example.com/4"]
    assert "test_training_is_reproducible" in infra_1["reason"]


def test_reports_uploaded_without_a_ci_run_id_stay_manual_however_often(client_as, project, junit_report):
    client = client_as("editor")
    now = timezone.now()
    for days_ago in (10, 5, 0):
        body = push(client, junit_report(at=now - timedelta(days=days_ago))).json()
    assert finding(body, "data-1")["suggested_status"] == "manual"


def test_great_expectations_and_evidently_results_from_the_real_tools_are_mapped(client_as, project, tool_reports):
    client = client_as("editor")
    ge = push(client, (tool_reports / "great_expectations_pass.json").read_bytes(), "great_expectations", "v.json")
    assert ge.status_code == 201, ge.json()
    assert finding(ge.json(), "data-1")["result"] == "pass"
    drift = push(client, (tool_reports / "evidently_drift.json").read_bytes(), "evidently", "drift.json")
    assert drift.status_code == 201, drift.json()
    assert finding(drift.json(), "monitoring-3")["result"] == "fail"


def test_a_project_mapping_rule_maps_a_check_that_names_no_item(client_as, project, junit_report):
    manager = client_as("manager")
    rule = manager.post(
        "/api/v1/projects/search-ranking/report-mappings/",
        {"pattern": "*tokenizer*", "item": "data-7", "kind": "junit"},
        format="json",
    )
    assert rule.status_code == 201, rule.json()
    body = push(client_as("editor"), junit_report(), run_id="1").json()
    assert body["unmapped"] == [] and finding(body, "data-7")["result"] == "pass"
    unknown = manager.post(
        "/api/v1/projects/search-ranking/report-mappings/", {"pattern": "*", "item": "data-99"}, format="json"
    )
    assert unknown.status_code == 400 and "data-99" in unknown.json()["error"]["message"] + str(unknown.json())
    assert ReportMapping.objects.count() == 1


def test_an_xxe_upload_is_refused_and_changes_nothing(client_as, project):
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<testsuite><testcase name="&x;"/></testsuite>'
    )
    response = push(client_as("editor"), xxe, run_id="x")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["file"]
    assert not Report.objects.exists()


def test_an_oversized_upload_is_refused_with_413_and_changes_nothing(client_as, project, junit_report, settings):
    settings.MLAUDIT_REPORT_MAX_BYTES = 100
    response = push(client_as("editor"), junit_report(), run_id="big")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "kind, data, status",
    [("junit", b"{}", 400), ("great_expectations", b"<x/>", 400), ("nonsense", b"<x/>", 400)],
)
def test_a_file_of_the_wrong_kind_is_a_400_naming_the_kind(client_as, project, kind, data, status):
    response = push(client_as("editor"), data, kind)
    assert response.status_code == status
    assert not Report.objects.exists()


@pytest.mark.parametrize("role, status", [("anonymous", 401), ("outsider", 404), ("viewer", 403), ("editor", 201)])
def test_who_may_push_a_report(client_as, project, junit_report, role, status):
    assert push(client_as(role), junit_report()).status_code == status


def test_a_push_token_posts_reports_to_its_project_and_nothing_else(api_client, manager, project, junit_report):
    _token, key = api_token_create(user=manager, name="ci", push_project=project)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert push(api_client, junit_report(), run_id="1").status_code == 201
    for method, path in (("get", URL), ("get", "/api/v1/projects/"), ("get", "/api/v1/portfolio/")):
        response = getattr(api_client, method)(path)
        assert response.status_code == 403, path
        assert "push token" in response.json()["error"]["message"]


def test_only_a_manager_can_create_a_push_token(editor, project):
    with pytest.raises(Exception, match="Only a manager"):
        api_token_create(user=editor, name="ci", push_project=project)


def test_create_api_token_push_to_prints_a_key_limited_to_the_project(manager, project):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", manager.username, "--push-to", project.slug, stdout=out, stderr=err)
    assert out.getvalue().startswith("mla_")
    assert "only post reports to the project “search-ranking”" in err.getvalue()


def test_a_report_lists_its_checks_and_gives_back_the_file_as_received(client_as, project, junit_report):
    client = client_as("editor")
    report_id = push(client, junit_report(), run_id="55").json()["id"]
    listed = client.get(URL).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == report_id
    detail = client.get(f"/api/v1/reports/{report_id}/").json()
    assert len(detail["checks"]) == 3 and detail["unmapped"]
    raw = client.get(f"/api/v1/reports/{report_id}/file/")
    assert raw.content == junit_report()
    assert gzip.decompress(bytes(Report.objects.get().raw)) == junit_report()
    assert client_as("outsider").get(f"/api/v1/reports/{report_id}/").status_code == 404


def test_only_the_newest_reports_are_kept_per_kind(client_as, project, junit_report, settings):
    settings.MLAUDIT_REPORTS_KEEP = 2
    client = client_as("editor")
    for n in range(4):
        push(client, junit_report(at=timezone.now() - timedelta(days=4 - n)), run_id=str(n))
    assert sorted(Report.objects.values_list("run_id", flat=True)) == ["2", "3"]


def test_the_project_evidence_lists_findings_of_every_source_with_their_source(client_as, project, junit_report):
    push(client_as("editor"), junit_report(), run_id="1", run_url="https://ci.example.com/1")
    evidence = client_as("viewer").get("/api/v1/projects/search-ranking/evidence/").json()
    junit = [f for f in evidence if f["source"] == "junit"]
    assert {f["item"] for f in junit} == {"data-1", "infra-1"}
    assert junit[0]["links"] == ["https://ci.example.com/1"] and junit[0]["report"]
