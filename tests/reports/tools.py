"""Fixtures: reports written by the real tools (pytest --junitxml, Great Expectations, Evidently).

Imported by the conftest here and by the API tests, which need the API fixtures of tests/api as well.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

CI_TESTS = """
import pytest


def test_feature_schema_matches(record_property):
    record_property("ml_test_score", "data-1")
    assert {"tenure_months", "plan"} <= {"tenure_months", "plan", "region"}


def test_training_is_reproducible(record_property):
    record_property("ml_test_score", "infra-1")
    assert {OUTCOME}


def test_tokenizer_handles_empty_text():
    assert "".split() == []
"""


@pytest.fixture(scope="session")
def tool_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tool-reports")
    done = subprocess.run(
        [sys.executable, str(HERE / "make_reports.py"), str(folder)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


@pytest.fixture(scope="session")
def junit_report(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., bytes]:
    """junit_report(passing=True, at=None) -> pytest's own --junitxml of a small ML test module.

    `at` rewrites the suite's timestamp, as a CI run on that day would have written it.
    """
    cache: dict[bool, bytes] = {}

    def make(passing: bool = True, at: datetime | None = None) -> bytes:
        if passing not in cache:
            folder = tmp_path_factory.mktemp("junit")
            (folder / "test_ml.py").write_text(textwrap.dedent(CI_TESTS).replace("{OUTCOME}", str(passing)))
            subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:django",
                 f"--junitxml={folder / 'report.xml'}", str(folder / "test_ml.py")],
                cwd=folder, capture_output=True, timeout=120,
            )  # fmt: skip
            cache[passing] = (folder / "report.xml").read_bytes()
        xml = cache[passing]
        if at is not None:
            xml = re.sub(rb'timestamp="[^"]*"', f'timestamp="{at.isoformat()}"'.encode(), xml)
        return xml

    return make
