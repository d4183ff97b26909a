"""Plotly figures for the managers' pages, built on the server with the `plotly` package.

Each builder returns a `Chart`: the figure as JSON plus the plotly.js config, which
static/js/charts.js draws with the bundle served from our own static files. The figures
use a plain light style (no Plotly template), so they stay small and print cleanly.

Figures are written as plain Plotly figure dicts (plain numbers, strings and lists) without
per-request validation: validating every property through graph_objects costs tens of
milliseconds per chart, so the tests validate each figure with `go.Figure` instead. The
template writes each chart's payload with Django's `json_script` filter, whose escaping
keeps the JSON from ever closing its <script> element.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from audits.dashboards.selectors import BandLabel, Comparison, Trend
from audits.dashboards.staticfiles import plotly_locale_path
from audits.formatting import plain
from rubric.models import AnswerStatus, Item
from rubric.scoring import ScoreResult

INK = "#1f2933"
GRID = "#e4e7eb"
ACCENT = "#2563eb"
WEAKEST = "#c2410c"
NEUTRAL = "#94a3b8"
SECTION_COLORS = ("#0f766e", "#7c3aed", "#b45309", "#be185d", "#475569", "#15803d")
# Colour-blind safe status scale (orange-red, light blue, dark blue), readable in greyscale print too.
STATUS_COLORS = {AnswerStatus.NOT_DONE: "#e8590c", AnswerStatus.MANUAL: "#74c0fc", AnswerStatus.AUTOMATED: "#1c4e80"}
# A counted exemption is worth a met criterion (by default): it takes automated's colour, labelled N/A.
STATUS_VALUES = {
    AnswerStatus.NOT_DONE: 0.0,
    AnswerStatus.MANUAL: 0.5,
    AnswerStatus.AUTOMATED: 1.0,
    AnswerStatus.NOT_APPLICABLE: 1.0,
}
SCALE_STATUSES = (AnswerStatus.NOT_DONE, AnswerStatus.MANUAL, AnswerStatus.AUTOMATED)
# Bands from worst to best: warm to cool, light enough to sit behind lines.
BAND_FILLS = ("#fde2e1", "#feeccb", "#fef9c3", "#e3f6d8", "#cdeee8", "#d5e7fb", "#e3dcfb")

# The heatmap's width never goes below a column label's line height per project (plus its margins and
# colour bar), so on a phone it scrolls sideways inside its card rather than piling labels on each other.
HEATMAP_COLUMN_WIDTH = 20
HEATMAP_FRAME_WIDTH = 200

PLOTLY_CONFIG: dict[str, Any] = {
    "responsive": True,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
}


# Dates in tooltips (d3-time-format): month names come from the plotly.js locale the page loads.
TOOLTIP_DATE_FORMATS = {"en": "%b %-d, %Y", "es": "%-d %b %Y"}


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def _config(config: dict[str, Any] | None) -> dict[str, Any]:
    """The plotly.js config, naming the page language's locale when the page loads one (tags, plotly_scripts)."""
    config = dict(config or PLOTLY_CONFIG)
    if plotly_locale_path(get_language()):
        config["locale"] = _language()
    return config


@dataclass(frozen=True)
class Chart:
    dom_id: str
    label: str  # what the chart shows, for screen readers
    payload: dict[str, Any]  # {"figure": ..., "config": ...}, written by the template's json_script
    height: int
    min_width: int | None = None  # CSS pixels below which the chart scrolls inside its card instead of shrinking

    @property
    def spec_id(self) -> str:
        """The id of the <script type="application/json"> element holding the payload."""
        return f"{self.dom_id}-spec"


Figure = dict[str, Any]


def _chart(
    dom_id: str,
    label: str,
    fig: Figure,
    height: int,
    config: dict[str, Any] | None = None,
    min_width: int | None = None,
) -> Chart:
    payload = {"figure": fig, "config": _config(config)}
    return Chart(dom_id=dom_id, label=label, payload=payload, height=height, min_width=min_width)


def _base_layout(height: int, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": "none",
        "height": height,
        "autosize": True,
        "margin": {"l": 48, "r": 16, "t": 24, "b": 48},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13, "color": INK},
        "hoverlabel": {"bgcolor": "#ffffff", "bordercolor": INK, "font": {"color": INK}},
        "showlegend": False,
    }
    layout.update(extra)
    return layout


def _figure(data: dict[str, Any] | list[dict[str, Any]], layout: dict[str, Any]) -> Figure:
    return {"data": data if isinstance(data, list) else [data], "layout": layout}


def _bar(**trace: Any) -> dict[str, Any]:
    return {"type": "bar", **trace}


def _scatter(**trace: Any) -> dict[str, Any]:
    return {"type": "scatter", **trace}


def _heatmap(**trace: Any) -> dict[str, Any]:
    return {"type": "heatmap", **trace}


def _axis(**extra: Any) -> dict[str, Any]:
    return {"gridcolor": GRID, "linecolor": GRID, "zeroline": False, "automargin": True, **extra}


# Section names beside bars break into lines this long, so they leave the bars room on a phone.
AXIS_LABEL_LINE = 16


def _wrapped(label: str) -> str:
    """A category label broken into short lines (plotly.js never wraps), escaped as plotly.js reads text."""
    lines = textwrap.wrap(label, AXIS_LABEL_LINE, break_long_words=False) or [label]
    return "<br>".join(line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for line in lines)


def _section_axis(titles: Sequence[str], **extra: Any) -> dict[str, Any]:
    """A category axis of section names, each wrapped, kept upright (rotated labels would overlap)."""
    ticks = {"tickmode": "array", "tickvals": list(titles), "ticktext": [_wrapped(t) for t in titles]}
    return _axis(**ticks, tickangle=0, **extra)


def _num(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _local(moment: Any) -> str:
    # plotly.js reads naive timestamps; show them in the site's time zone.
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def section_scores_chart(score: ScoreResult, titles: dict[str, str]) -> Chart:
    """One bar per section on a fixed 0..max axis; the weakest section(s), which set the score, stand out.

    Horizontal bars: the section names sit one under the other, so they never overlap on a phone.
    """
    axis_max = float(max((section.max for section in score.sections), default=Decimal(0)))
    names = [titles.get(section.key, section.title) for section in score.sections]
    weakest = [section.key in score.weakest for section in score.sections]
    height = 100 + 64 * len(names)
    fig = _figure(
        _bar(
            orientation="h",
            y=names,
            x=[float(section.score) for section in score.sections],
            marker={"color": [WEAKEST if flag else ACCENT for flag in weakest]},
            text=[
                f"{plain(section.score)} / {plain(section.max)}" + (f" · {_('weakest')}" if flag else "")
                for section, flag in zip(score.sections, weakest, strict=True)
            ],
            # Inside a long bar, after a short one: never past the chart's right edge.
            textposition="auto",
            insidetextanchor="end",
            hovertemplate="%{y}: %{x}<extra></extra>",
        ),
        layout=_base_layout(
            height,
            xaxis=_axis(range=[0, axis_max], dtick=1, title={"text": _("Section score")}),
            yaxis=_section_axis(names, autorange="reversed"),
            margin={"l": 16, "r": 16, "t": 16, "b": 48},
        ),
    )
    fig["layout"]["shapes"] = [
        {
            "type": "line",
            "yref": "paper",
            "y0": 0,
            "y1": 1,
            "x0": float(score.final),
            "x1": float(score.final),
            "line": {"color": WEAKEST, "dash": "dot", "width": 1},
        }
    ]
    return _chart("section-scores", _("Section scores on a scale from 0 to %(max)g") % {"max": axis_max}, fig, height)


def _band_shapes(bands: Sequence[BandLabel], y_min: float, y_max: float) -> tuple[list[dict], list[dict]]:
    shapes, annotations = [], []
    for index, band in enumerate(bands):
        low = y_min if band.lower is None else max(float(band.lower), y_min)
        high = y_max if band.upper is None else min(float(band.upper), y_max)
        if high <= low:
            continue
        shapes.append(
            {
                "type": "rect",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": low,
                "y1": high,
                "fillcolor": BAND_FILLS[index % len(BAND_FILLS)],
                "line": {"width": 0},
                "layer": "below",
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "y": (low + high) / 2,
                "text": band.title,
                "showarrow": False,
                "font": {"size": 11, "color": "#52606d"},
            }
        )
    return shapes, annotations


def trend_chart(trend: Trend, audit_urls: Sequence[str]) -> Chart:
    """Final score over time with section lines, bands shaded behind; a point's customdata is its audit URL."""
    points = trend.points
    dates = [_local(point.submitted_at) for point in points]
    y_max = float(trend.section_max) + 0.25
    y_min = -0.25
    section_keys = list(trend.section_titles) or sorted({key for point in points for key in point.sections})
    section_lines = "<br>".join(
        f"{trend.section_titles.get(key, key)}: %{{customdata[{index + 2}]}}" for index, key in enumerate(section_keys)
    )
    customdata = [
        [url, point.submitted_by or "—", *[point.sections.get(key, "") for key in section_keys]]
        for url, point in zip(audit_urls, points, strict=True)
    ]
    traces: list[dict[str, Any]] = [
        _scatter(
            x=dates,
            y=[point.sections.get(key) for point in points],
            customdata=customdata,
            name=trend.section_titles.get(key, key),
            mode="lines+markers",
            line={"color": SECTION_COLORS[index % len(SECTION_COLORS)], "width": 1.5, "dash": "dot"},
            marker={"size": 5},
            hoverinfo="skip",
        )
        for index, key in enumerate(section_keys)
    ]
    traces.append(
        _scatter(
            x=dates,
            y=[float(point.final) for point in points],
            customdata=customdata,
            name=_("Final score"),
            mode="lines+markers",
            line={"color": INK, "width": 3},
            marker={"size": 11, "color": INK, "line": {"color": "#ffffff", "width": 2}},
            hovertemplate=(
                f"<b>%{{x|{TOOLTIP_DATE_FORMATS.get(_language(), TOOLTIP_DATE_FORMATS['en'])}}}</b><br>"
                + _("Final score")
                + ": %{y}<br>"
                + section_lines
                + "<br>"
                + _("Auditor")
                + ": %{customdata[1]}<br><i>"
                + _("Click to open this audit")
                + "</i><extra></extra>"
            ),
        )
    )
    shapes, annotations = _band_shapes(trend.bands, y_min, y_max)
    fig = _figure(
        traces,
        layout=_base_layout(
            420,
            showlegend=True,
            legend={"orientation": "h", "y": -0.18},
            hovermode="closest",
            yaxis=_axis(range=[y_min, y_max], dtick=1, title={"text": _("Score")}),
            xaxis=_axis(type="date"),
            shapes=shapes,
            annotations=annotations,
            margin={"l": 48, "r": 16, "t": 16, "b": 72},
        ),
    )
    return _chart("trend", _("Final and section scores of each submitted audit over time"), fig, 420)


def band_counts_chart(band_counts: Sequence[tuple[BandLabel | None, int]]) -> Chart:
    labels = [band.title if band else _("Not audited yet") for band, _count in band_counts]
    colors = [BAND_FILLS[index % len(BAND_FILLS)] if band else GRID for index, (band, _c) in enumerate(band_counts)]
    fig = _figure(
        _bar(
            x=labels,
            y=[count for _band, count in band_counts],
            text=[count for _band, count in band_counts],
            textposition="outside",
            cliponaxis=False,
            marker={"color": colors, "line": {"color": "#7b8794", "width": 1}},
            hovertemplate="%{x}: %{y}<extra></extra>",
        ),
        layout=_base_layout(280, yaxis=_axis(title={"text": _("Projects")}, rangemode="tozero"), xaxis=_axis()),
    )
    return _chart("band-counts", _("Number of projects in each score band"), fig, 280)


def status_heatmap_chart(
    items: Sequence[Item], columns: Sequence[str], matrix: Sequence[dict[str, str] | None]
) -> Chart:
    """Rows: the rubric's items; columns: projects; a column without a submitted audit stays blank."""
    status_names = {status.value: status.short_label for status in AnswerStatus}
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for item in items:
        z_row: list[float | None] = []
        text_row: list[str] = []
        for statuses in matrix:
            if statuses is None:
                z_row.append(None)
                text_row.append(_("No submitted audit"))
                continue
            status = statuses.get(item.code, AnswerStatus.NOT_DONE)
            z_row.append(STATUS_VALUES[AnswerStatus(status)])
            text_row.append(status_names[status])
        z.append(z_row)
        text.append(text_row)
    c = STATUS_COLORS
    height = 120 + 20 * len(items)
    fig = _figure(
        _heatmap(
            z=z,
            x=list(columns),
            y=[item.code for item in items],
            text=text,
            customdata=[[item.localized("title")] * len(columns) for item in items],
            hovertemplate="%{x}<br>%{y}: %{customdata}<br><b>%{text}</b><extra></extra>",
            zmin=0,
            zmax=1,
            xgap=1,
            ygap=1,
            colorscale=[
                [0, c[AnswerStatus.NOT_DONE]],
                [0.33, c[AnswerStatus.NOT_DONE]],
                [0.33, c[AnswerStatus.MANUAL]],
                [0.66, c[AnswerStatus.MANUAL]],
                [0.66, c[AnswerStatus.AUTOMATED]],
                [1, c[AnswerStatus.AUTOMATED]],
            ],
            colorbar={
                "tickvals": [1 / 6, 0.5, 5 / 6],
                "ticktext": [status.short_label for status in SCALE_STATUSES],
                "thickness": 12,
                "len": 0.5,
                "y": 1,
                "yanchor": "top",
            },
        ),
        layout=_base_layout(
            height,
            # Upright labels take one line height per column whatever the name's length: they never overlap.
            xaxis=_axis(tickangle=-90, type="category", showgrid=False),
            yaxis=_axis(autorange="reversed", type="category", showgrid=False, dtick=1),
            margin={"l": 96, "r": 16, "t": 16, "b": 120},
        ),
    )
    return _chart(
        "status-heatmap",
        _("Status of each test in each project's latest submitted audit"),
        fig,
        height,
        min_width=HEATMAP_FRAME_WIDTH + HEATMAP_COLUMN_WIDTH * len(columns),
    )


def comparison_chart(comparison: Comparison) -> Chart:
    titles = [section.title for section in comparison.sections]
    axis_max = float(max((section.max for section in comparison.sections), default=Decimal(0)))
    before_name = _("Audit #%(id)s") % {"id": comparison.before.pk}
    after_name = _("Audit #%(id)s") % {"id": comparison.after.pk}
    fig = _figure(
        [
            _bar(
                name=before_name,
                x=titles,
                y=[float(section.before) for section in comparison.sections],
                marker={"color": NEUTRAL},
                hovertemplate=before_name + " · %{x}: %{y}<extra></extra>",
            ),
            _bar(
                name=after_name,
                x=titles,
                y=[float(section.after) for section in comparison.sections],
                marker={"color": ACCENT},
                text=[("+" if section.delta > 0 else "") + plain(section.delta) for section in comparison.sections],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=after_name + " · %{x}: %{y}<extra></extra>",
            ),
        ],
        layout=_base_layout(
            320,
            barmode="group",
            showlegend=True,
            legend={"orientation": "h", "y": -0.2},
            yaxis=_axis(range=[0, axis_max], dtick=1, title={"text": _("Section score")}),
            xaxis=_section_axis(titles),
        ),
    )
    return _chart("section-deltas", _("Section scores of the two audits side by side"), fig, 320)
