"""The CI client and the pytest marker, run as a CI job would: a real pytest run, then a push to a live server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from audits.api.tokens import api_token_create
from integrations.reports.models import Report
from integrations.reports.parsers import parse

MARKED_TESTS = """
import pytest


@pytest.mark.ml_test_score("infra-2")
def test_model_config_is_valid():
    assert True


@pytest.mark.ml_test_score("data-4", "data-5")
def test_no_personal_columns_reach_training():
    assert True
"""


def run_pytest_with_marker(folder: Path) -> Path:
    (folder / "test_marked.py").write_text(textwrap.dedent(MARKED_TESTS))
    report = folder / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:django",
         f"--junitxml={report}", str(folder / "test_marked.py")],
        cwd=folder, capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return report


def client(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "integrations.reports.push_client", *args], capture_output=True, text=True, timeout=60
    )


def test_the_pytest_marker_writes_the_items_into_the_junit_report(tmp_path):
    checks = parse("junit", run_pytest_with_marker(tmp_path).read_bytes()).checks
    assert [check.items for check in checks] == [("infra-2",), ("data-4", "data-5")]


@pytest.mark.django_db(transaction=True)
def test_the_client_pushes_a_report_with_a_push_token_and_reports_what_mapped(live_server, manager, project, tmp_path):
    report = run_pytest_with_marker(tmp_path)
    _token, key = api_token_create(user=manager, name="ci", push_project=project)
    common = ["--url", live_server.url, "--token", key, "--project", project.slug, "--kind", "junit"]
    done = client("push", str(report), *common, "--run-id", "gh-1", "--run-url", "https://ci.example.com/1")
    assert done.returncode == 0, done.stderr
    assert "stored: 2 checks, 2 mapped" in done.stdout and "infra-2: manual" in done.stdout
    again = client("push", str(report), *common, "--run-id", "gh-1")
    assert again.returncode == 0 and "already stored for this run" in again.stdout
    assert Report.objects.count() == 1

    (tmp_path / "bad.xml").write_text("<html/>")
    refused = client("push", str(tmp_path / "bad.xml"), *common)
    assert refused.returncode == 1
    assert "refused (400)" in refused.stderr and "starts with <html>" in refused.stderr


def test_the_client_says_what_is_missing_and_exits_2(tmp_path):
    done = client("push", str(tmp_path / "none.xml"), "--kind", "junit")
    assert done.returncode == 2 and "--url" in done.stderr
