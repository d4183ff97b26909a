"""Benchmark: how far mlaudit's MLflow suggestions are backed by the data, over the labelled corpus.

    DATABASE_URL=postgres://... python -m bench.evidence_quality

Starts a real `mlflow server` (SQLite backend, one worker) on a free loopback port, builds every scenario of
tests/mlflow/scenarios with MLflow's own client, connects one mlaudit project to each, syncs (also at the
scenario's checkpoints, as polling would) and compares the findings with the labels:
  precision  supported suggestions / suggestions              target >= 95 %
  recall     labelled-pass items with a supported suggestion  target >= 80 %
             / labelled-pass items
and every automated suggestion must cite the recurrence behind it. The database is BENCH_DATABASE_NAME
(default mlaudit_bench_evidence) on the PostgreSQL server DATABASE_URL names; never a test or real one.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.portfolio import open_bench_database
    from tests.mlflow.server import MlflowServer

    open_bench_database("mlaudit_bench_evidence")

    from tests.mlflow.scenarios import SCENARIOS
    from tests.mlflow.scenarios.harness import format_score, format_totals, observe_corpus, score, totals

    wanted = set(filter(None, os.environ.get("BENCH_SCENARIOS", "").split(",")))
    scenarios = [s for s in SCENARIOS if not wanted or s.name in wanted]
    with tempfile.TemporaryDirectory(prefix="mlaudit-bench-evidence-") as root:
        server = MlflowServer(Path(root))
        print(f"Starting mlflow server on {server.url} ...", flush=True)
        server.start()
        started = time.perf_counter()
        try:
            seen = observe_corpus(scenarios, tracking_uri=server.url)
        finally:
            server.stop()
    scores = [score(s, seen[s.name]) for s in scenarios]
    for s in scores:
        print(format_score(s), end="\n\n")
    overall = totals(scores)
    print(f"scenarios {len(scores)}, built and synced in {time.perf_counter() - started:.0f} s")
    print(format_totals(overall))
    print("targets met" if overall.met else "TARGETS MISSED")
    return 0 if overall.met else 1


if __name__ == "__main__":
    sys.exit(main())
