"""The app's URLs plus bare views for the benchmark's "stack floor".

Each bare view runs the benchmark's raw SQL for a page and returns the numbers as JSON: what the
page would cost with no ORM, no templates and no charts, through the same middleware (sign-in,
sessions, security headers). The benchmark reports the page against it as well as against the SQL.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from bench import portfolio as bench
from config.urls import urlpatterns as app_urlpatterns


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def portfolio_floor(request: HttpRequest) -> JsonResponse:
    rows = _rows(bench.PORTFOLIO_ROWS_SQL, [request.user.pk])
    latest_ids = [row[6] for row in rows if row[6] is not None]
    missed = _rows(bench.MOST_MISSED_SQL, [latest_ids])
    heatmap = _rows(bench.HEATMAP_SQL, [latest_ids[: bench.PAGE_SIZE]])
    history = _rows(bench.HISTORY_SQL, [request.user.pk, bench.history_end()])
    return JsonResponse({"rows": rows, "missed": missed, "heatmap": heatmap, "history": history}, safe=False)


def trend_floor(request: HttpRequest, project_id: int) -> JsonResponse:
    return JsonResponse({"points": _rows(bench.TREND_SQL, [request.user.pk, project_id])})


urlpatterns = [
    path("__bench__/portfolio/", portfolio_floor),
    path("__bench__/trend/<int:project_id>/", trend_floor),
    *app_urlpatterns,
]
