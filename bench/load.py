"""Benchmark: load and soak. 50 signed-in users against gunicorn (DEBUG off, PostgreSQL, Redis) for 5 minutes.

    DATABASE_URL=postgres://... python -m bench.load

DATABASE_URL only names the PostgreSQL server: the benchmark uses its own database, BENCH_DATABASE_NAME
(default mlaudit_bench_load). It seeds a portfolio, signs its users in, starts gunicorn with production's
config/gunicorn.py on a free loopback port, runs the users (bench/load_locust.py), then checks: no error,
no acknowledged save missing from the database, no worker growing by 10 % or more. It prints requests per
second, median and p95 per request type next to the bare signed-in view (the floor). Method: bench/README.md.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import load_locust  # before Django: importing locust monkey-patches sockets and ssl for gevent
from bench.load_checks import Ack, MemoryGrowth, StoredAnswer, StoredChange, lost_saves
from bench.portfolio import p95

SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "300"))
WARMUP = float(os.environ.get("BENCH_LOAD_WARMUP_SECONDS", "30"))
USERS = int(os.environ.get("BENCH_LOAD_USERS", "50"))
PROJECTS = int(os.environ.get("BENCH_LOAD_PROJECTS", "50"))
AUDITS = int(os.environ.get("BENCH_LOAD_AUDITS", "12"))
TEAMS = int(os.environ.get("BENCH_LOAD_TEAMS", "5"))
THINK = tuple(float(part) for part in os.environ.get("BENCH_LOAD_THINK_SECONDS", "1-3").split("-"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "3"))  # production's default (config/gunicorn.py)
# Recycling after N requests (production: 1000) would replace the workers every minute or so and hide the
# very growth the soak looks for; 0 turns it off. Set 1000 to run exactly as production does.
MAX_REQUESTS = int(os.environ.get("BENCH_LOAD_MAX_REQUESTS", "0"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# For the benchmark's own test: "lost" loses one acknowledged save after the run, "error" adds 500s.
INJECT = {part.strip() for part in os.environ.get("BENCH_LOAD_INJECT", "").split(",") if part.strip()}
REPORT = os.environ.get("BENCH_LOAD_REPORT", "")  # a path: the figures and checks as JSON, too
FLOOR = "floor"


def require_loopback(what: str, url: str) -> None:
    """The benchmark talks to 127.0.0.1 (or ::1) only: refuse any other server, with a sentence."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"The load benchmark only talks to this machine: {what} must be on 127.0.0.1, not {host!r}.")


def stored_state(audit_ids: set[int]) -> tuple[list[StoredAnswer], list[StoredChange]]:
    from audits.models import Answer, AnswerChange

    answers = [
        StoredAnswer(audit_id, code, status, notes, version)
        for audit_id, code, status, notes, version in Answer.objects.filter(audit_id__in=audit_ids)
        .order_by()
        .values_list("audit_id", "item__code", "status", "notes", "version")
    ]
    changes = [
        StoredChange(audit_id, code, status, notes)
        for audit_id, code, status, notes in AnswerChange.objects.filter(answer__audit_id__in=audit_ids)
        .order_by()
        .values_list("answer__audit_id", "answer__item__code", "status_after", "notes_after")
    ]
    return answers, changes


def lose_one_save(acks: list[Ack]) -> None:
    """Injected fault: the last acknowledged autosave vanishes (its history row and its value)."""
    from audits.models import Answer, AnswerChange

    ack = next((ack for ack in reversed(acks) if ack.version is not None), None)
    if ack is None:
        raise SystemExit("BENCH_LOAD_INJECT=lost needs an acknowledged autosave, and the run made none.")
    AnswerChange.objects.filter(
        answer__audit_id=ack.audit_id, answer__item__code=ack.item, notes_after=ack.notes
    ).delete()
    Answer.objects.filter(audit_id=ack.audit_id, item__code=ack.item).update(notes="(lost by BENCH_LOAD_INJECT)")


def report(
    run: load_locust.LoadRun,
    lost: list[str],
    memory: MemoryGrowth,
    log_errors: list[str],
    server_times: dict[str, list[float]],
) -> dict[str, Any]:
    recorder = run.recorder
    floor = run.stats.get(FLOOR)
    floor_server = server_times.get(FLOOR, [])
    types: dict[str, dict[str, Any]] = {}
    for name, stats in sorted(run.stats.items(), key=lambda pair: (pair[0] == FLOOR, pair[0])):
        row: dict[str, Any] = {**vars(stats), "conflicts": recorder.outcomes.get((name, "conflict"), 0)}
        if floor and floor.median_ms and floor.p95_ms:
            row["median_vs_floor"] = stats.median_ms / floor.median_ms
            row["p95_vs_floor"] = stats.p95_ms / floor.p95_ms
        in_worker = server_times.get(name, [])
        if in_worker:
            row["server_median_ms"] = statistics.median(in_worker)
            row["server_p95_ms"] = p95(in_worker)
        if in_worker and floor_server:
            row["server_median_vs_floor"] = row["server_median_ms"] / max(statistics.median(floor_server), 0.1)
            row["server_p95_vs_floor"] = row["server_p95_ms"] / max(p95(floor_server), 0.1)
        types[name] = row
    failures = {kind: sum(n for (_, o), n in recorder.outcomes.items() if o == kind) for kind in load_locust.FAILURES}
    checks = {
        "no errors": recorder.failures() == 0 and not log_errors,
        "no lost answer": not lost,
        "worker memory growth < 10 %": memory.met,
    }
    return {
        "users": len(recorder.plans),
        "measured_seconds": run.measured_seconds,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "generator_saturated": run.generator_saturated,
        "types": types,
        "total_rps": sum(stats.rps for stats in run.stats.values()),
        "acknowledged_saves": len(recorder.acks),
        "conflicts": sum(n for (_, o), n in recorder.outcomes.items() if o == "conflict"),
        "failures": failures,
        "outcomes": {f"{kind}: {outcome}": count for (kind, outcome), count in sorted(recorder.outcomes.items())},
        "failure_examples": recorder.examples,
        "server_log_errors": len(log_errors),
        "server_log_examples": [line[:300] for line in log_errors[:3]],
        "lost": lost,
        "memory_kb": {
            "start": memory.start,
            "end": memory.end,
            "worst_growth": memory.worst,
            "replaced": memory.replaced,
        },
        "checks": checks,
    }


def print_report(result: dict[str, Any]) -> None:
    load = ", ".join(f"{value:.1f}" for value in result["load_average"])
    print(
        f"\n{result['users']} users, {result['measured_seconds']:.0f} s measured after {WARMUP:g} s of warm-up; "
        f"{result['cores']} cores, load average {load}."
    )
    print("Client: as the users saw it (with the wait for a free worker). In worker: the app's own time.")
    print("med/fl, p95/fl: the median and p95 over the floor's (the bare signed-in view) under the same load.")
    print(f"{'':<18}{'':>17}{'client, ms':>20}{'':>18}{'in worker, ms':>20}")
    print(
        f"{'request type':<18}{'requests':>9}{'req/s':>8}" + f"{'median':>8}{'p95':>8}{'med/fl':>10}{'p95/fl':>8}" * 2
    )
    for name, row in result["types"].items():
        cells = f"{name:<18}{row['requests']:>9}{row['rps']:>8.1f}"
        for prefix in ("", "server_"):
            cells += (
                f"{row.get(prefix + 'median_ms', 0):>8.0f}{row.get(prefix + 'p95_ms', 0):>8.0f}"
                f"{row.get(prefix + 'median_vs_floor', 0):>9.1f}x{row.get(prefix + 'p95_vs_floor', 0):>7.1f}x"
            )
        print(cells)
    print(f"{'all':<18}{'':>9}{result['total_rps']:>8.1f}")
    print(
        f"\nSaves acknowledged: {result['acknowledged_saves']}; "
        f"autosave conflicts (409, expected): {result['conflicts']}."
    )
    failures = ", ".join(f"{kind}: {count}" for kind, count in result["failures"].items())
    print(f"Failures: {failures}; error lines in the server log: {result['server_log_errors']}.")
    for kind, examples in result["failure_examples"].items():
        for example in examples:
            print(f"  {kind}: {example}")
    for line in result["server_log_examples"]:
        print(f"  log: {line}")
    for problem in result["lost"][:10]:
        print(f"  lost: {problem}")
    memory = result["memory_kb"]
    for pid, start in memory["start"].items():
        end = memory["end"].get(pid)
        change = f"{end / 1024:.1f} MB ({end / start - 1:+.1%})" if end else "gone (replaced)"
        print(f"Worker {pid}: {start / 1024:.1f} MB after warm-up -> {change}")
    if result["generator_saturated"]:
        print("The load generator's CPU was saturated: the figures understate what the server can do.")
    for name, met in result["checks"].items():
        print(f"  {name}: {'met' if met else 'MISSED'}")


def main() -> int:
    from bench.portfolio import open_bench_database

    server_url = os.environ.get("DATABASE_URL", "")
    require_loopback("DATABASE_URL", server_url)
    require_loopback("BENCH_REDIS_URL", REDIS_URL)
    secret_key = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)
    os.environ["SECRET_KEY"] = secret_key  # the sessions made here must be valid for gunicorn's workers
    open_bench_database("mlaudit_bench_load")

    from bench.load_seed import seed
    from bench.load_server import start_gunicorn, workers_rss

    plans = seed(projects=PROJECTS, audits=AUDITS, teams=TEAMS, users=USERS)
    with tempfile.TemporaryDirectory(prefix="mlaudit-bench-load-") as folder:
        env = {
            "SECRET_KEY": secret_key,
            "DATABASE_URL": os.environ["DATABASE_URL"],  # the benchmark database, as open_bench_database set it
            "REDIS_URL": REDIS_URL,
            "STATICFILES_STORAGE": os.environ["STATICFILES_STORAGE"],
            "MLAUDIT_VAR_DIR": str(Path(folder) / "var"),
            "STATIC_ROOT": str(Path(folder) / "static"),
        }
        server = start_gunicorn(env, Path(folder) / "gunicorn.log", workers=WORKERS, max_requests=MAX_REQUESTS)
        try:
            print(f"gunicorn with {WORKERS} workers on {server.url}; {len(plans)} users for {SECONDS:g} s ...")
            run = load_locust.run_load(
                server.url,
                plans,
                seconds=SECONDS,
                warmup=WARMUP,
                think=(THINK[0], THINK[-1]),
                inject_error="error" in INJECT,
                sample_memory=lambda: workers_rss(server),
            )
        finally:
            server.stop()
        log_errors = server.error_lines()
        server_times = server.server_times(f"{load_locust.REQUEST_ID_PREFIX}m.")
    acks = run.recorder.acks
    if "lost" in INJECT:
        lose_one_save(acks)
    answers, changes = stored_state({ack.audit_id for ack in acks})
    memory = MemoryGrowth(run.memory_start, run.memory_end)
    result = report(run, lost_saves(acks, answers, changes), memory, log_errors, server_times)
    print_report(result)
    if REPORT:
        Path(REPORT).write_text(json.dumps(result, indent=2, default=str))
    met = all(result["checks"].values())
    print("\nAll checks met." if met else "\nSome checks missed.")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
