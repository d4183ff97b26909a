"""Benchmark: the questionnaire page and an answer save, against their stack floors.

    DATABASE_URL=postgres://... python -m bench.questionnaire

Uses its own database, BENCH_DATABASE_NAME (default mlaudit_bench_questionnaire), on DATABASE_URL's server.
One project with two drafts of 28 answers each: one with no history, one with BENCH_HISTORY (300) recorded
changes. Each request is timed in-process with Django's test client, signed in as an editor, DEBUG off,
taking turns with its stack floor: a bare signed-in view that runs the same queries with a plain cursor
and returns their rows as JSON (bench/_questionnaire_floor.py).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections.abc import Callable
from typing import Any

from bench.portfolio import interleaved_timings_ms, open_bench_database, p95

HISTORY = int(os.environ.get("BENCH_HISTORY", "300"))
REPEAT = int(os.environ.get("BENCH_REQUESTS", "40"))
PAGE_TARGET = 2.0  # page / its stack floor, whatever the history length
SAVE_TARGET = 1.5  # answer save / its stack floor
USERNAME = "bench-questionnaire-editor"
PROJECT_SLUG = "bench-questionnaire"


def seed() -> tuple[Any, Any, Any]:
    """The editor and two drafts (history 0 and HISTORY), rebuilt on every run so each starts alike."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from audits.models import Answer, AnswerChange, Audit, Membership, Project, Role, Team
    from rubric.models import AnswerStatus
    from rubric.selectors import default_rubric

    rubric = default_rubric()
    assert rubric is not None, "the built-in rubric is loaded by the migrations"
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    team, _ = Team.objects.get_or_create(slug=PROJECT_SLUG, defaults={"name": "Bench questionnaire"})
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.EDITOR})
    Project.objects.filter(slug=PROJECT_SLUG).delete()
    project = Project.objects.create(team=team, name="Bench questionnaire", slug=PROJECT_SLUG)
    items = list(rubric.items.order_by("section__order", "order"))
    statuses = AnswerStatus.values
    drafts = []
    for history in (0, HISTORY):
        audit = Audit.objects.create(project=project, rubric=rubric, created_by=user)
        answers = Answer.objects.bulk_create(
            Answer(
                audit=audit,
                item=item,
                status=statuses[n % 3],
                notes=f"Notes on {item.code}",
                evidence=["https://ci.example.com/job/1"],
                answered_by=user,
                answered_at=timezone.now(),
            )
            for n, item in enumerate(items)
        )
        AnswerChange.objects.bulk_create(
            AnswerChange(
                answer=answers[n % len(answers)],
                changed_by=user,
                status_before=statuses[n % 3],
                status_after=statuses[(n + 1) % 3],
                notes_before=f"Earlier words {n}",
                notes_after=f"Later words {n}",
            )
            for n in range(history)
        )
        drafts.append(audit)
    return user, drafts[0], drafts[1]


def main() -> int:
    open_bench_database("mlaudit_bench_questionnaire")

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    user, short, long = seed()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    override_settings(ROOT_URLCONF="bench._questionnaire_floor").enable()
    client = Client()
    client.force_login(user)

    def get(url: str) -> Callable[[], None]:
        def fetch() -> None:
            response = client.get(url, secure=True)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} answered {response.status_code}")

        return fetch

    def post(url: str, statuses: list[str]) -> Callable[[], None]:
        turn = {"n": 0}

        def send() -> None:
            turn["n"] += 1
            body = json.dumps({"status": statuses[turn["n"] % len(statuses)], "notes": "", "evidence": []})
            response = client.post(url, body, content_type="application/json", secure=True)
            if response.status_code != 200:
                raise SystemExit(f"POST {url} answered {response.status_code}: {response.content[:200]!r}")

        return send

    def queries(action: Callable[[], None]) -> int:
        action()
        with CaptureQueriesContext(connection) as captured:
            action()
        return len(captured)

    item = short.answers.order_by("pk").first().item
    cases = []
    for label, audit in (("history 0", short), (f"history {HISTORY}", long)):
        page, floor = get(f"/audits/{audit.pk}/"), get(f"/__bench__/questionnaire/{audit.pk}/")
        cases.append((f"page, {label}", page, floor, PAGE_TARGET, queries(page)))
    save = post(f"/audits/{short.pk}/answers/{item.code}/", ["manual", "automated"])
    save_floor = post(f"/__bench__/questionnaire/{short.pk}/save/{item.pk}/", ["manual", "automated"])
    cases.append(("answer save", save, save_floor, SAVE_TARGET, queries(save)))

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{REPEAT} timed runs of each, taking turns with its floor; {os.cpu_count()} cores, load average {load}.")
    print("Stack floor: the same queries with a plain cursor in a bare signed-in view returning JSON.\n")
    met_all = True
    for name, action, floor, target, count in cases:
        page_ms, floor_ms = interleaved_timings_ms([action, floor], repeat=REPEAT)
        ratio = statistics.median(page_ms) / statistics.median(floor_ms)
        met = ratio <= target
        met_all &= met
        print(f"{name}: {count} SQL queries per request")
        for what, samples in (("request", page_ms), ("stack floor", floor_ms)):
            print(f"  {what:<12} median {statistics.median(samples):7.1f} ms   p95 {p95(samples):7.1f} ms")
        print(f"  request / stack floor = {ratio:.2f}x (target <= {target:g}x: {'met' if met else 'MISSED'})")
    print("\nAll targets met." if met_all else "\nSome targets missed.")
    return 0 if met_all else 1


if __name__ == "__main__":
    sys.exit(main())
