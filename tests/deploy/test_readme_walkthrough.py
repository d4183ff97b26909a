"""The README's API walk-through and CI script, run literally against a demo seeded as `make run` seeds it.

The code blocks are read from README.md itself, so the documentation cannot drift from the product again.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def readme_block(heading: str, language: str) -> str:
    """The first fenced block of `language` after the heading `### <heading>`."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(f"### {heading}\n") :]
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, f"README.md has no {language} block under “{heading}”"
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    """A `make run`-like instance: SQLite under its own var/, demo data, the development server."""
    var = tmp_path_factory.mktemp("var")
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(MLAUDIT_VAR_DIR=str(var), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    for step in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *step], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the development server did not answer within 60 s"
            time.sleep(0.3)
        yield url, env, var
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_command_line_walk_through_runs_as_written_on_a_fresh_demo(demo, tmp_path):
    url, env, _var = demo
    script = readme_block("From the command line", "sh").replace("http://127.0.0.1:8000", url)
    # The block runs from the repository folder, as the README says; its report is written to a scratch copy.
    script = script.replace("> audit-report.md", f"> {tmp_path / 'audit-report.md'}")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    score = json.loads(done.stdout.strip().splitlines()[-1])
    assert score["final"] == 0  # one item answered leaves the other sections at zero
    report = (tmp_path / "audit-report.md").read_text()
    assert "Recommendations" in report and "data-1" in report


def test_the_ci_script_pushes_answers_submits_and_fails_below_its_threshold(demo, tmp_path):
    url, env, _var = demo
    (tmp_path / "ci_audit.py").write_text(readme_block("In a CI job", "python"))
    answers = [{"item": code, "status": "manual"} for code in ("data-1", "model-1", "infra-1", "monitoring-1")]
    (tmp_path / "ml-test-score.json").write_text(json.dumps(answers))
    key = subprocess.run(
        [sys.executable, "manage.py", "create_api_token", "demo", "--name", "ci"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ci_env = {**env, "MLAUDIT_URL": url, "MLAUDIT_PROJECT": "churn-forecast", "MLAUDIT_TOKEN": key}

    def run(threshold: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "ci_audit.py"],
            cwd=tmp_path,
            env={**ci_env, "MLAUDIT_MIN_SCORE": threshold},
            capture_output=True,
            text=True,
            timeout=60,
        )

    passed = run("0.5")
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.startswith("ML Test Score ")
    failed = run("5")
    assert failed.returncode == 1
    assert "is below the required 5.0" in failed.stderr
