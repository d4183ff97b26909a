"""The managers' pages. Thin: reads come from selectors, figures from charts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_datetime
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from audits.dashboards import charts, history_charts
from audits.dashboards.portfolio_history import band_history, default_rollup_band, team_rollup
from audits.dashboards.portfolio_selectors import (
    PORTFOLIO_SORTS,
    latest_status_matrix,
    most_missed_items,
    portfolio,
)
from audits.dashboards.selectors import (
    BandLabel,
    audit_result,
    comparable_audits,
    compare_audits,
    trend_for_project,
)
from audits.exemptions.formatting import exemption_note
from audits.exemptions.rules import audit_score_day, counted_statuses
from audits.formatting import decimal_separator, score, signed_score
from audits.planning.selectors import audit_next_steps
from audits.selectors import PortfolioRow, audit_for_user, project_for_user

# The table and the heatmap show one page of projects; band counts and most-missed tests cover all of them.
PORTFOLIO_PAGE_SIZE = 50
MOST_MISSED_SHOWN = 10


def audit_result_view(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = audit_for_user(user=request.user, audit_id=audit_id)
    result = audit_result(audit=audit)
    context = {
        "audit": audit,
        "project": audit.project,
        "rubric_title": audit.rubric.localized("title"),
        "result": result,
        "chart": charts.section_scores_chart(result.score, result.section_titles),
        "sections": [
            {"score": section, "title": result.section_titles.get(section.key, section.title)}
            for section in result.score.sections
        ],
        "weakest_titles": [result.section_titles.get(key, key) for key in result.score.weakest],
        "next_steps": audit_next_steps(
            audit=audit,
            statuses=counted_statuses([row.answer for row in result.items if row.answer], audit_score_day(audit)),
        ),
    }
    return render(request, "dashboards/audit_result.html", context)


def project_trend_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for_user(user=request.user, slug=slug)
    trend = trend_for_project(project=project)
    urls = _urls_for_each("dashboards:audit-result", [point.audit_id for point in trend.points], _INT_PLACEHOLDER)
    keys = list(trend.section_titles)
    separator = decimal_separator()
    datetime_format = get_format("SHORT_DATETIME_FORMAT")
    # Cells formatted here rather than by template filters: one row per audit, the project's whole history.
    rows = [
        {
            "point": point,
            "url": url,
            "submitted": format_datetime(timezone.localtime(point.submitted_at), datetime_format),
            "final": score(point.final, separator),
            "exemptions": exemption_note(point.exempted, point.final, point.final_strict, separator),
            "section_cells": mark_safe(  # every value is escaped inside
                "".join(
                    f'<td class="num">{escape(score(point.sections.get(key), separator) or "—")}</td>' for key in keys
                )
            ),
        }
        for point, url in zip(trend.points, urls, strict=True)
    ]
    context = {
        "project": project,
        "trend": trend,
        "section_titles": [trend.section_titles[key] for key in keys],
        "rows": rows,
        "chart": charts.trend_chart(trend, urls) if trend.points else None,
    }
    return render(request, "dashboards/project_trend.html", context)


def portfolio_view(request: HttpRequest) -> HttpResponse:
    data = portfolio(user=request.user, params=request.GET)
    page = Paginator(data.entries, PORTFOLIO_PAGE_SIZE).get_page(request.GET.get("page"))
    page_entries: list[PortfolioRow] = list(page.object_list)
    bands_by_label = {band.label: band for band in data.bands}
    matrix = latest_status_matrix(audit_ids=[entry.latest_audit_id for entry in page_entries if entry.latest_audit_id])
    audited_ids = [entry.latest_audit_id for entry in data.entries if entry.latest_audit_id]
    chosen = data.filters.form.cleaned_data if data.filters.is_valid() else {}
    ordering = ",".join(chosen.get("ordering") or []) or "name"
    rollup_band = bands_by_label.get(request.GET.get("at_least", "")) or default_rollup_band(data.bands)
    history = band_history(projects=data.projects, bands=data.bands)
    context: dict[str, Any] = {
        "portfolio": data,
        "page": page,
        "lines": _portfolio_lines(page_entries, bands_by_label),
        "not_audited": _("Not audited yet"),
        "overdue_label": _("overdue"),
        "trend_label": _("Score trend"),
        "teams": data.teams,
        "tags": data.tags,
        "team_slug": chosen.get("team") or "",
        "band_label": chosen.get("band") or "",
        "tag_slug": chosen.get("tag") or "",
        "filtered": any(chosen.get(key) for key in ("team", "band", "tag")),
        "sort": ordering,
        "sort_columns": _sort_columns(ordering),
        "overdue_count": sum(1 for entry in data.entries if entry.overdue),
        "audited_count": len(audited_ids),
        "most_missed": most_missed_items(items=data.items, item_codes=data.item_codes, audit_ids=audited_ids)[
            :MOST_MISSED_SHOWN
        ],
        "page_size": PORTFOLIO_PAGE_SIZE,
        "band_chart": charts.band_counts_chart(data.band_counts),
        "history_chart": history_charts.band_history_chart(
            history.months, history.bands, history.counts, history.medians
        ),
        "rollup": team_rollup(data.entries, rollup_band),
        "rollup_band": rollup_band,
        "heatmap": None,
    }
    if page_entries and data.items:
        context["heatmap"] = charts.status_heatmap_chart(
            data.items,
            _column_names(page_entries),
            [matrix.get(entry.latest_audit_id) if entry.latest_audit_id else None for entry in page_entries],
        )
    return render(request, "dashboards/portfolio.html", context)


# Placeholders no real row has, for resolving a URL pattern once per page instead of once per row.
_INT_PLACEHOLDER = 918273645
_SLUG_PLACEHOLDER = "url-placeholder-7f3a9c"


def _urls_for_each(viewname: str, values: list[Any], placeholder: int | str) -> list[str]:
    """reverse() for many rows: the pattern is resolved once, then each value fills it in.

    Only for int and slug parameters, whose values are URL-safe as they are.
    """
    head, _placeholder, tail = reverse(viewname, args=[placeholder]).partition(str(placeholder))
    return [f"{head}{value}{tail}" for value in values]


def _portfolio_lines(entries: list[PortfolioRow], bands: dict[str, BandLabel]) -> list[dict[str, Any]]:
    """The table rows, formatted here: a page of 50 rows renders much faster from flat values."""
    slugs = [entry.slug for entry in entries]
    trend_urls = _urls_for_each("dashboards:project-trend", slugs, _SLUG_PLACEHOLDER)
    project_urls = _urls_for_each("audits:project-detail", slugs, _SLUG_PLACEHOLDER)
    result_urls = _urls_for_each(
        "dashboards:audit-result", [entry.latest_audit_id for entry in entries], _INT_PLACEHOLDER
    )
    lines = []
    for entry, trend_url, project_url, result_url in zip(entries, trend_urls, project_urls, result_urls, strict=True):
        change = entry.change
        lines.append(
            {
                "slug": entry.slug,
                "name": entry.name,
                "team": entry.team_name,
                "trend_url": trend_url,
                "project_url": project_url,
                "result_url": result_url if entry.latest_audit_id else "",
                "final": score(entry.final),
                "exemptions": exemption_note(entry.exempted, entry.final, entry.final_strict),
                "band": bands.get(entry.band.label) if entry.band else None,
                "change": signed_score(change),
                "direction": "same" if not change else "up" if change > 0 else "down",
                "last_audit_at": entry.last_audit_at,
                "due_at": entry.due_at,
                "overdue": entry.overdue,
            }
        )
    return lines


def _column_names(entries: list[PortfolioRow]) -> list[str]:
    """Project names as heatmap columns; a repeated name gets its slug, since columns merge by label."""
    repeated = {name for name, count in Counter(entry.name for entry in entries).items() if count > 1}
    return [f"{entry.name} ({entry.slug})" if entry.name in repeated else entry.name for entry in entries]


def _sort_columns(current: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the sort a click on its header selects, and its aria-sort state."""
    columns = {}
    for key in PORTFOLIO_SORTS:
        if current == key:
            columns[key] = {"next": f"-{key}", "aria": "ascending"}
        elif current == f"-{key}":
            columns[key] = {"next": key, "aria": "descending"}
        else:
            columns[key] = {"next": key, "aria": "none"}
    return columns


def compare_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for_user(user=request.user, slug=slug)
    audits = comparable_audits(project=project)
    by_id = {audit.pk: audit for audit in audits}
    before = by_id.get(_int_or_none(request.GET.get("a")))  # type: ignore[arg-type]
    after = by_id.get(_int_or_none(request.GET.get("b")))  # type: ignore[arg-type]
    if before is None and after is None and len(audits) >= 2:
        # Default: what changed in the latest audit since the one before it.
        after, before = audits[0], audits[1]
    error = ""
    comparison = None
    if before is not None and after is not None:
        if before.pk == after.pk:
            error = _("Choose two different audits.")
        else:
            comparison = compare_audits(before=before, after=after)
    elif len(audits) < 2:
        error = _("This project needs at least two submitted audits before they can be compared.")
    else:
        error = _("Choose the two audits to compare.")
    context = {
        "project": project,
        "audits": audits,
        "before": before,
        "after": after,
        "comparison": comparison,
        "error": error,
        "chart": charts.comparison_chart(comparison) if comparison else None,
    }
    return render(request, "dashboards/compare.html", context)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
