"""Benchmark: the portfolio and trend pages at 1,000 and 10,000 projects, against their floors.

    DATABASE_URL=postgres://... python -m bench.portfolio

DATABASE_URL only names the PostgreSQL server: each size has its own database (mlaudit_bench for 1,000
projects, mlaudit_bench_10000 for 10,000; BENCH_DATABASE_NAME renames them), created and seeded once
(seed_benchmark, skipped when already present), so it never touches test or real data. Each size runs
in its own process; it times each page in-process with Django's test client (signed in as a manager of
every team), the raw SQL that computes the same numbers, and that SQL in a bare view (the stack floor).
BENCH_PROJECTS measures one size only.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SIZES = (1000, 10000)  # projects, each with BENCH_AUDITS submitted audits
PROJECTS = int(os.environ.get("BENCH_PROJECTS", "1000"))
AUDITS = int(os.environ.get("BENCH_AUDITS", "20"))
REPEAT = int(os.environ.get("BENCH_REQUESTS", "40"))
WARMUP = 5
PORTFOLIO_TARGET_RATIO = 2.0  # page / SQL floor
TREND_TARGET_RATIO = 2.0  # page / stack floor: no signed-in page comes near its bare SQL
TARGET_P95_MS = 250.0  # the portfolio at 1,000 projects

# The numbers the portfolio page shows, straight from SQL: each visible project's latest and previous
# submitted audit, kept on the project (the table, band counts and overdue flags) ...
PORTFOLIO_ROWS_SQL = """
SELECT p.id, p.name, p.slug, p.audit_cadence_days, p.created_at, t.name,
       p.last_audit_id, p.last_audit_final, p.last_audit_at, latest.rubric_id, latest.band_label,
       p.previous_audit_final
FROM audits_project p
JOIN audits_team t ON t.id = p.team_id
JOIN audits_membership m ON m.team_id = p.team_id AND m.user_id = %s
LEFT JOIN audits_audit latest ON latest.id = p.last_audit_id
ORDER BY p.name
"""
# ... how often each test is done, by status, across those latest audits (most-missed list) ...
MOST_MISSED_SQL = """
SELECT ans.item_id, ans.status, count(*) FROM audits_answer ans
WHERE ans.audit_id = ANY(%s) AND ans.status <> 'not_done' GROUP BY ans.item_id, ans.status
"""
# ... and the statuses of the projects on the first page of the table (heatmap).
HEATMAP_SQL = """
SELECT ans.audit_id, i.code, ans.status FROM audits_answer ans JOIN rubric_item i ON i.id = ans.item_id
WHERE ans.audit_id = ANY(%s)
"""
# ... and every submitted audit of those projects until the end of this month, for the bands per month and
# their median (audits.dashboards.portfolio_history, one row per audit; the rollup reads the rows above).
HISTORY_SQL = """
SELECT a.project_id, a.submitted_at, a.final_score, a.band_label FROM audits_audit a
WHERE a.project_id IN (SELECT p.id FROM audits_project p JOIN audits_membership m ON m.team_id = p.team_id
                       AND m.user_id = %s)
  AND a.status = 'submitted' AND a.submitted_at < %s
ORDER BY a.project_id, a.submitted_at, a.id
"""
# The numbers the trend page shows: every submitted audit's frozen scores, oldest first, if the user may see them.
TREND_SQL = """
SELECT a.id, a.submitted_at, a.final_score, a.section_scores, u.username
FROM audits_audit a
JOIN audits_project p ON p.id = a.project_id
JOIN audits_membership m ON m.team_id = p.team_id AND m.user_id = %s
LEFT JOIN auth_user u ON u.id = a.submitted_by_id
WHERE a.project_id = %s AND a.status = 'submitted' ORDER BY a.submitted_at, a.id
"""
PAGE_SIZE = 50  # the portfolio's table page (audits.dashboards.views.PORTFOLIO_PAGE_SIZE)


def bench_database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
        raise SystemExit("The benchmark needs DATABASE_URL to point at a PostgreSQL server.")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def ensure_database(server_url: str, name: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(server_url)
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created the benchmark database {name}.")
    connection.close()


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Measure as production runs: no DEBUG query log, no template debug information.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-used-for-anything-else")
    os.environ["STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def open_bench_database(default_name: str) -> None:
    """Create (if missing), select and migrate the benchmark's own database on DATABASE_URL's server."""
    server_url = os.environ.get("DATABASE_URL", "")
    name = os.environ.get("BENCH_DATABASE_NAME", default_name)
    ensure_database(server_url, name)
    setup_django(bench_database_url(server_url, name))
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def history_end() -> Any:
    """The end of the current month in the site's time zone: where the portfolio's months stop."""
    from datetime import datetime

    from django.utils import timezone

    from audits.dashboards.portfolio_history import _next_month

    start = _next_month(timezone.localdate())
    return timezone.make_aware(datetime(start.year, start.month, 1))


def interleaved_timings_ms(actions: list[Callable[[], Any]], repeat: int = REPEAT) -> list[list[float]]:
    """Time each action `repeat` times, taking turns, so that all see the same machine load."""
    for _ in range(WARMUP):
        for action in actions:
            action()
    samples: list[list[float]] = [[] for _ in actions]
    for _ in range(repeat):
        for action, timings in zip(actions, samples, strict=True):
            started = time.perf_counter()
            action()
            timings.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class Case:
    name: str
    detail: str
    page: Callable[[], Any]
    sql_floor: Callable[[], Any]
    stack_floor: Callable[[], Any]
    queries: int
    target_floor: str  # "SQL" or "stack": the floor the target ratio is measured against
    target_ratio: float
    p95_target_ms: float | None = None


def report(case: Case) -> bool:
    page, sql, stack = interleaved_timings_ms([case.page, case.sql_floor, case.stack_floor])
    ratios = {
        "SQL": statistics.median(page) / statistics.median(sql),
        "stack": statistics.median(page) / statistics.median(stack),
    }
    print(f"{case.name}: {case.detail}, {case.queries} SQL queries per request")
    for label, samples in (("page", page), ("SQL floor", sql), ("stack floor", stack)):
        print(f"  {label:<12} median {statistics.median(samples):7.1f} ms   p95 {p95(samples):7.1f} ms")
    met = ratios[case.target_floor] <= case.target_ratio
    verdicts = []
    for floor, ratio in ratios.items():
        verdict = f"page / {floor} floor = {ratio:.2f}x"
        if floor == case.target_floor:
            verdict += f" (target <= {case.target_ratio:g}x: {'met' if met else 'MISSED'})"
        verdicts.append(verdict)
    if case.p95_target_ms is not None:
        p95_met = p95(page) < case.p95_target_ms
        verdicts.append(
            f"p95 {p95(page):.0f} ms (target < {case.p95_target_ms:g} ms: {'met' if p95_met else 'MISSED'})"
        )
        met &= p95_met
    print("  " + "; ".join(verdicts))
    return met


def main() -> int:
    """Every size in its own process (each sets Django up on its own database), unless BENCH_PROJECTS is set."""
    if "BENCH_PROJECTS" in os.environ:
        return measure()
    failed = False
    for projects in SIZES:
        print(f"\n--- {projects} projects x {AUDITS} audits ---", flush=True)
        env = {**os.environ, "BENCH_PROJECTS": str(projects)}
        failed |= subprocess.call([sys.executable, "-m", "bench.portfolio"], env=env) != 0
    return 1 if failed else 0


def measure() -> int:
    # One database per size (seed_benchmark refuses to grow a portfolio): NAME, NAME_10000.
    base = os.environ.get("BENCH_DATABASE_NAME", "mlaudit_bench")
    os.environ["BENCH_DATABASE_NAME"] = base if SIZES[0] == PROJECTS else f"{base}_{PROJECTS}"
    open_bench_database(base)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    from audits.dashboards.views import PORTFOLIO_PAGE_SIZE
    from audits.management.commands.seed_benchmark import BENCH_PREFIX, BENCH_USERNAME
    from audits.models import Project

    assert PORTFOLIO_PAGE_SIZE == PAGE_SIZE, "keep bench.portfolio.PAGE_SIZE equal to the page's size"
    call_command("seed_benchmark", projects=PROJECTS, audits=AUDITS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    override_settings(ROOT_URLCONF="bench._floor_urls").enable()
    user = get_user_model().objects.get(username=BENCH_USERNAME)
    client = Client()
    client.force_login(user)
    project = Project.objects.filter(slug__startswith=BENCH_PREFIX).order_by("slug").first()
    assert project is not None

    def get(url: str) -> Callable[[], None]:
        def fetch() -> None:
            response = client.get(url, secure=True)  # production runs behind TLS (SECURE_SSL_REDIRECT)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} answered {response.status_code}")

        return fetch

    def portfolio_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute(PORTFOLIO_ROWS_SQL, [user.pk])
            latest_ids = [row[6] for row in cursor.fetchall() if row[6] is not None]
            cursor.execute(MOST_MISSED_SQL, [latest_ids])
            cursor.fetchall()
            cursor.execute(HEATMAP_SQL, [latest_ids[:PAGE_SIZE]])
            cursor.fetchall()
            cursor.execute(HISTORY_SQL, [user.pk, history_end()])
            cursor.fetchall()

    def trend_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute(TREND_SQL, [user.pk, project.pk])
            cursor.fetchall()

    def queries(url: str) -> int:
        get(url)()  # the first request fills per-process caches (the rubric's scoring spec and labels)
        with CaptureQueriesContext(connection) as captured:
            get(url)()
        return len(captured)

    portfolio_url = reverse("dashboards:portfolio")
    trend_url = reverse("dashboards:project-trend", args=[project.slug])
    cases = [
        Case(
            "portfolio",
            f"GET {portfolio_url}, {PROJECTS} projects (table page of {PAGE_SIZE})",
            get(portfolio_url),
            portfolio_sql,
            get("/__bench__/portfolio/"),
            queries(portfolio_url),
            "SQL",
            PORTFOLIO_TARGET_RATIO,
            TARGET_P95_MS if SIZES[0] == PROJECTS else None,
        ),
        Case(
            "trend",
            f"GET {trend_url}, {AUDITS} audits",
            get(trend_url),
            trend_sql,
            get(f"/__bench__/trend/{project.pk}/"),
            queries(trend_url),
            "stack",
            TREND_TARGET_RATIO,
        ),
    ]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"\n{REPEAT} timed runs of each, taking turns, after {WARMUP} warm-up rounds; "
        f"{os.cpu_count()} cores, load average {load}."
    )
    print("SQL floor: the raw SQL computing the page's numbers. Stack floor: that SQL in a bare view")
    print("returning JSON through the same middleware (sign-in, sessions), i.e. no ORM, templates or charts.\n")
    results = [report(case) for case in cases]
    print("\nAll targets met." if all(results) else "\nSome targets missed.")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
