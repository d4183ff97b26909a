"""Benchmark: syncing an MLflow experiment of 5,000 runs, against simply paging through its runs.

    DATABASE_URL=postgres://... python -m bench.mlflow_sync

Starts a real `mlflow server` (SQLite backend, one worker) on a free loopback port, adds an
experiment of BENCH_MLFLOW_RUNS runs (default 5,000, each with 3 params, 3 metrics and 2 tags),
then times, BENCH_REPEAT times each (default 5, floor and sync interleaved), and keeps the best:
  floor  paging through every run with the REST client (integrations.mlflow.client), nothing else;
  sync   a complete sync of that experiment into an empty evidence store: paging, parsing, metric
         histories of the recent runs, writing every run and evaluating the rules (one transaction);
  resync the same sync again, when nothing changed in MLflow.
Target: sync / floor <= 1.3. The benchmark database is BENCH_DATABASE_NAME (default
mlaudit_bench_mlflow) on the PostgreSQL server DATABASE_URL names; it is never a test or real database.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_MLFLOW_RUNS", "5000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
TARGET_RATIO = 1.3


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.portfolio import open_bench_database
    from tests.mlflow.server import MlflowServer

    open_bench_database("mlaudit_bench_mlflow")

    from django.contrib.auth import get_user_model

    from audits.models import Project, Team
    from integrations.mlflow import services
    from integrations.mlflow.client import MlflowClient
    from integrations.mlflow.models import MlflowConnection, SyncedRun, SyncState

    with tempfile.TemporaryDirectory(prefix="mlaudit-bench-mlflow-") as root:
        server = MlflowServer(Path(root))
        print(f"Starting mlflow server on {server.url} ...", flush=True)
        server.start()
        try:
            experiment_id = server.create_experiment("bench-5000")
            server.insert_runs(experiment_id, RUNS)
            admin, _ = get_user_model().objects.get_or_create(username="bench-mlflow", defaults={"is_staff": True})
            team, _ = Team.objects.get_or_create(slug="bench-mlflow", defaults={"name": "Bench MLflow"})
            project, _ = Project.objects.get_or_create(slug="bench-mlflow", defaults={"name": "Bench", "team": team})
            MlflowConnection.objects.filter(project=project).delete()
            connection = services.connection_create(
                actor=admin, project=project, name="bench", tracking_uri=server.url, experiments=["bench-5000"]
            )

            def floor() -> None:
                with MlflowClient(server.url) as client:
                    assert len(client.search_runs([experiment_id])) == RUNS

            def sync() -> None:
                run = services.sync_request(actor=admin, connection=connection)
                services.sync_execute(sync_id=run.pk, final_attempt=True)
                run.refresh_from_db()
                assert run.state == SyncState.SUCCEEDED and run.runs_read == RUNS, run.error

            def empty_store() -> None:
                SyncedRun.objects.filter(connection=connection).delete()

            floor()  # warm up the server's caches once
            # Interleaved, so a busy machine slows both sides alike; each sync starts from an empty store.
            floors, syncs = [], []
            for _ in range(REPEAT):
                floors.append(timed(floor))
                empty_store()
                syncs.append(timed(sync))
            resync_s = min(timed(sync) for _ in range(REPEAT))
            floor_s, sync_s = min(floors), min(syncs)
            paired = statistics.median(s / f for s, f in zip(syncs, floors, strict=True))
        finally:
            server.stop()
    ratio = sync_s / floor_s
    print(f"runs                        {RUNS}")
    print(f"floor (REST paging), best   {floor_s:7.2f} s")
    print(f"sync (empty store), best    {sync_s:7.2f} s")
    print(f"resync (no changes), best   {resync_s:7.2f} s")
    print(f"ratio of the bests          {ratio:7.2f}   (target <= {TARGET_RATIO})")
    print(f"median of paired ratios     {paired:7.2f}")
    print(f"cores (nproc)               {os.cpu_count()}")
    ok = ratio <= TARGET_RATIO
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
