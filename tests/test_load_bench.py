"""The load benchmark's pieces (bench/load*.py): its checks catch a lost save, an error and a growing worker.

The checks are fed plain values; then one short real run (3 users, 5 s, against gunicorn on PostgreSQL
and Redis) with two injected faults shows that the whole chain counts them, and only them. The run is
a subprocess because locust monkey-patches the standard library for gevent when it is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bench.load_checks import Ack, MemoryGrowth, StoredAnswer, StoredChange, lost_saves

ROOT = Path(__file__).resolve().parent.parent


def saved(audit: int, item: str, notes: str, version: int | None) -> tuple[Ack, StoredChange]:
    return Ack(audit, item, "manual", notes, version), StoredChange(audit, item, "manual", notes)


def test_saves_in_the_history_and_the_newest_value_in_the_answer_are_not_lost():
    first, first_row = saved(1, "data-1", "first", 2)
    second, second_row = saved(1, "data-1", "second", 3)
    api, api_row = saved(1, "data-2", "by the API", None)
    answers = [StoredAnswer(1, "data-1", "manual", "second", 3), StoredAnswer(1, "data-2", "manual", "by the API", 5)]

    assert lost_saves([first, second, api], answers, [first_row, second_row, api_row]) == []


def test_an_acknowledged_save_missing_from_the_history_is_lost():
    first, first_row = saved(1, "data-1", "first", 2)
    second, _ = saved(1, "data-1", "second", 3)
    answers = [StoredAnswer(1, "data-1", "manual", "second", 3)]

    assert lost_saves([first, second], answers, [first_row]) == [
        "audit 1 data-1: the acknowledged save 'second' is not in its history"
    ]


def test_an_answer_that_holds_another_value_at_the_acknowledged_version_is_lost():
    ack, row = saved(1, "data-1", "mine", 2)
    answers = [StoredAnswer(1, "data-1", "manual", "something else", 2)]

    assert lost_saves([ack], answers, [row]) == ["audit 1 data-1: version 2 holds another value than acknowledged"]


def test_two_acknowledged_saves_of_one_version_are_a_lost_update():
    mine, my_row = saved(1, "data-1", "mine", 2)
    theirs, their_row = saved(1, "data-1", "theirs", 2)
    answers = [StoredAnswer(1, "data-1", "manual", "theirs", 2)]

    assert "audit 1 data-1: 2 acknowledged saves claim version 2" in lost_saves(
        [mine, theirs], answers, [my_row, their_row]
    )


def test_a_newer_unacknowledged_version_does_not_hide_or_fake_a_loss():
    ack, row = saved(1, "data-1", "mine", 2)
    later = StoredChange(1, "data-1", "automated", "a save cut off when the load stopped")
    answers = [StoredAnswer(1, "data-1", "automated", "a save cut off when the load stopped", 3)]

    assert lost_saves([ack], answers, [row, later]) == []


def test_worker_memory_growth_of_ten_percent_or_a_replaced_worker_misses_the_target():
    assert MemoryGrowth({1: 100_000, 2: 100_000}, {1: 109_000, 2: 100_500}).met
    assert not MemoryGrowth({1: 100_000, 2: 100_000}, {1: 110_000, 2: 100_000}).met
    replaced = MemoryGrowth({1: 100_000, 2: 100_000}, {1: 100_000, 3: 60_000})
    assert replaced.replaced == 1 and not replaced.met
    assert not MemoryGrowth({}, {}).met  # nothing measured is not a pass


def test_a_short_load_run_counts_an_injected_error_and_an_injected_lost_save(tmp_path):
    server = os.environ["DATABASE_URL"]
    report_path = tmp_path / "load.json"
    env = {
        **os.environ,
        "BENCH_DATABASE_NAME": f"{urlsplit(server).path.lstrip('/')}_loadbench",
        "BENCH_REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "BENCH_LOAD_SECONDS": "5",
        "BENCH_LOAD_WARMUP_SECONDS": "1",
        "BENCH_LOAD_THINK_SECONDS": "0-0.1",
        "BENCH_LOAD_USERS": "3",
        "BENCH_LOAD_PROJECTS": "2",
        "BENCH_LOAD_AUDITS": "2",
        "BENCH_LOAD_TEAMS": "1",
        "WEB_CONCURRENCY": "1",
        "BENCH_LOAD_INJECT": "lost,error",
        "BENCH_LOAD_REPORT": str(report_path),
    }
    run = subprocess.run(
        [sys.executable, "-m", "bench.load"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert report_path.exists(), run.stdout + run.stderr
    report = json.loads(report_path.read_text())

    assert run.returncode == 1
    assert report["checks"]["no errors"] is False
    assert report["checks"]["no lost answer"] is False
    # Exactly what was injected: the failure view's 500s (and their log lines), and one save.
    injected = report["outcomes"]["injected failure: server error"]
    assert injected > 0
    assert report["failures"] == {
        "server error": injected,
        "connection error": 0,
        "unexpected answer": 0,
        "task exception": 0,
    }
    assert report["server_log_errors"] >= injected
    assert len({problem.split(":")[0] for problem in report["lost"]}) == 1, report["lost"]
    assert report["acknowledged_saves"] > 1
    assert {"autosave", "floor"} <= set(report["types"])
    assert report["types"]["autosave"]["p95_vs_floor"] > 0
    assert set(report["memory_kb"]["start"]) == set(report["memory_kb"]["end"])
