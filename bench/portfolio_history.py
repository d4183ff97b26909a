"""Benchmark: the portfolio's charts over time and per team at 1,000 projects x 20 audits, against their SQL floor.

    DATABASE_URL=postgres://... python -m bench.portfolio_history

Uses bench.portfolio's database (mlaudit_bench, created and seeded once; BENCH_DATABASE_NAME renames it). It
times, in-process, what the portfolio page does for its bands per month, median line and team rollup — the
history query through the page's filter set (audits.api.filters.ProjectFilter), the month buckets and medians,
the rollup over the page's rows, the Plotly figure and its JSON as the template's json_script writes it —
against the raw SQL returning the same audits (HISTORY_SQL). The rollup reads no SQL of its own: its rows are
the portfolio's, read (and measured) by bench.portfolio, so they are read once here before timing.
Target: at most 3 times the SQL floor.
"""

from __future__ import annotations

import os
import statistics
import sys

from bench import portfolio as base

TARGET_RATIO = 3.0


def main() -> int:
    os.environ.setdefault("BENCH_PROJECTS", "1000")
    base_name = os.environ.get("BENCH_DATABASE_NAME", "mlaudit_bench")
    base.open_bench_database(base_name)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext
    from django.utils.html import json_script

    from audits.api.filters import ProjectFilter
    from audits.dashboards.history_charts import band_history_chart
    from audits.dashboards.portfolio_history import band_history, default_rollup_band, team_rollup
    from audits.dashboards.selectors import rubric_labels
    from audits.management.commands.seed_benchmark import BENCH_USERNAME
    from audits.selectors import portfolio_queryset, portfolio_rows
    from rubric.selectors import default_rubric

    call_command("seed_benchmark", projects=base.PROJECTS, audits=base.AUDITS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user = get_user_model().objects.get(username=BENCH_USERNAME)
    rubric = default_rubric()
    assert rubric is not None
    bands = rubric_labels(rubric).bands
    params = QueryDict(mutable=True)
    params["ordering"] = "name"
    projects = ProjectFilter(params, queryset=portfolio_queryset(user=user)).qs
    entries = portfolio_rows(user=user, projects=projects)  # the portfolio's rows, paid for by the page already

    def charts() -> None:
        history = band_history(projects=projects.order_by(), bands=bands)
        chart = band_history_chart(history.months, history.bands, history.counts, history.medians)
        team_rollup(entries, default_rollup_band(bands))
        json_script(chart.payload, chart.spec_id)

    def sql_floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(base.HISTORY_SQL, [user.pk, base.history_end()])
            cursor.fetchall()

    with CaptureQueriesContext(connection) as captured:
        charts()
    page, sql = base.interleaved_timings_ms([charts, sql_floor])
    ratio = statistics.median(page) / statistics.median(sql)
    met = ratio <= TARGET_RATIO
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"portfolio history: bands per month, median and team rollup, {base.PROJECTS} projects x {base.AUDITS} "
        f"audits, {len(captured)} SQL query per request"
    )
    print(f"  charts       median {statistics.median(page):7.1f} ms   p95 {base.p95(page):7.1f} ms")
    print(f"  SQL floor    median {statistics.median(sql):7.1f} ms   p95 {base.p95(sql):7.1f} ms")
    print(f"  charts / SQL floor = {ratio:.2f}x (target <= {TARGET_RATIO:g}x: {'met' if met else 'MISSED'})")
    print(
        f"{base.REPEAT} timed runs each, taking turns, after {base.WARMUP} warm-up rounds; "
        f"{os.cpu_count()} cores, load average {load}."
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
