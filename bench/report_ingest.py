"""Benchmark: ingesting a large JUnit report costs at most 2x parsing the same file alone.

    DATABASE_URL=postgres://... python -m bench.report_ingest

Builds a pytest-shaped JUnit file of 20,000 test cases (about 5 MB; one in ten names its item with the
`ml_test_score` property, one in fifty fails) and times, taking turns under the same load:
  floor   defusedxml's ElementTree.fromstring over the bytes (what any reader must do)
  ingest  services.report_receive: parse, map, compress and store, as the push API does
Target: median ingest <= 2x median floor. The database is BENCH_DATABASE_NAME (default
mlaudit_bench_reports) on the PostgreSQL server DATABASE_URL names.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

CASES = 20_000
TARGET = 2.0


def junit_file(cases: int = CASES) -> bytes:
    rows = []
    for n in range(cases):
        props = (
            f'<properties><property name="ml_test_score" value="data-{n % 7 + 1}" /></properties>'
            if n % 10 == 0
            else ""
        )
        failure = (
            f'<failure message="assert {n} == {n + 1}">def test_case_{n}():\n&gt;       assert {n} == {n + 1}\n'
            "E       AssertionError</failure>"
            if n % 50 == 0
            else ""
        )
        rows.append(
            f'<testcase classname="tests.features.test_module_{n // 100}" name="test_case_{n}[param-{n % 13}]" '
            f'time="0.{n % 997:03d}">{props}{failure}</testcase>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0" '
        f'failures="{cases // 50}" skipped="0" tests="{cases}" time="812.3" timestamp="2026-12-01T10:00:00+00:00" '
        f'hostname="ci">{"".join(rows)}</testsuite></testsuites>'
    ).encode()


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.portfolio import interleaved_timings_ms, open_bench_database

    open_bench_database("mlaudit_bench_reports")
    from defusedxml import ElementTree as SafeET
    from django.contrib.auth import get_user_model

    from audits.models import Project, Role, Team
    from audits.services import membership_set, team_create
    from integrations.reports.models import Report
    from integrations.reports.services import report_receive

    data = junit_file()
    user = get_user_model().objects.filter(username="bench-ci").first() or get_user_model().objects.create_user(
        "bench-ci"
    )
    team = Team.objects.filter(slug="bench-ci").first() or team_create(name="Bench CI", slug="bench-ci", creator=user)
    membership_set(actor=user, team=team, username_or_email=user.username, role=Role.MANAGER)
    project = Project.objects.filter(slug="bench-ci").first() or Project.objects.create(
        team=team, name="Bench CI", slug="bench-ci"
    )
    Report.objects.filter(project=project).delete()

    def floor() -> None:
        SafeET.fromstring(data, forbid_dtd=True)

    def ingest() -> None:
        report_receive(actor=user, project=project, kind="junit", data=data, file_name="report.xml")

    floor_ms, ingest_ms = interleaved_timings_ms([floor, ingest], repeat=7)
    ratio = statistics.median(ingest_ms) / statistics.median(floor_ms)
    print(f"JUnit report: {CASES:,} test cases, {len(data) / 1e6:.1f} MB")
    print(f"  parse alone (floor): median {statistics.median(floor_ms):.0f} ms")
    print(
        f"  ingest (API path):   median {statistics.median(ingest_ms):.0f} ms  ratio {ratio:.2f}x  target <= {TARGET}x"
    )
    Report.objects.filter(project=project).delete()
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
