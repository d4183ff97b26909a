"""Plotly figures over time: the portfolio's bands per month with the median final score, and a
campaign's burn-up. Built like audits.dashboards.charts (plain figure dicts, the same light style)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from audits.dashboards.charts import (
    ACCENT,
    BAND_FILLS,
    GRID,
    INK,
    Chart,
    _axis,
    _bar,
    _base_layout,
    _chart,
    _figure,
    _num,
    _scatter,
)
from audits.dashboards.selectors import BandLabel


def band_history_chart(
    months: Sequence[date],
    bands: Sequence[BandLabel],
    counts: Sequence[Sequence[int]],
    medians: Sequence[Decimal | None],
) -> Chart:
    """Stacked bars: projects per band at the end of each month (by their latest submitted audit then);
    a line on the right axis: the median final score of those projects."""
    x = [month.strftime("%Y-%m") for month in months]
    traces = [
        _bar(
            x=x,
            y=list(row),
            name=band.title,
            marker={"color": BAND_FILLS[index % len(BAND_FILLS)], "line": {"color": "#7b8794", "width": 1}},
            hovertemplate=f"{band.title}: %{{y}}<extra>%{{x}}</extra>",
        )
        for index, (band, row) in enumerate(zip(bands, counts, strict=True))
    ]
    traces.append(
        _scatter(
            x=x,
            y=[_num(value) for value in medians],
            name=_("Median final score"),
            yaxis="y2",
            mode="lines+markers",
            line={"color": INK, "width": 2},
            hovertemplate=_("Median final score") + ": %{y}<extra>%{x}</extra>",
        )
    )
    height = 340
    fig = _figure(
        traces,
        layout=_base_layout(
            height,
            barmode="stack",
            showlegend=True,
            legend={"orientation": "h", "y": -0.22},
            xaxis=_axis(type="category"),
            yaxis=_axis(title={"text": _("Projects")}, rangemode="tozero"),
            yaxis2={
                "title": {"text": _("Median final score")},
                "overlaying": "y",
                "side": "right",
                "rangemode": "tozero",
                "showgrid": False,
                "zeroline": False,
            },
            margin={"l": 48, "r": 56, "t": 16, "b": 80},
        ),
    )
    return _chart(
        "band-history", _("Projects per band at the end of each month, and their median final score"), fig, height
    )


def burnup_chart(points: Sequence[tuple[date, int]], total: int, due_on: date) -> Chart:
    """Projects meeting the campaign's target over time (a step line), under the scope's size."""
    days = [day.isoformat() for day, _count in points]
    fig = _figure(
        [
            _scatter(
                x=days,
                y=[count for _day, count in points],
                name=_("Projects meeting the target"),
                mode="lines+markers",
                line={"color": ACCENT, "width": 3, "shape": "hv"},
                hovertemplate="%{x}: %{y}<extra></extra>",
            ),
            _scatter(
                x=[days[0] if days else due_on.isoformat(), due_on.isoformat()],
                y=[total, total],
                name=_("Projects in scope"),
                mode="lines",
                line={"color": GRID, "width": 2, "dash": "dash"},
                hoverinfo="skip",
            ),
        ],
        layout=_base_layout(
            300,
            showlegend=True,
            legend={"orientation": "h", "y": -0.25},
            xaxis=_axis(type="date"),
            yaxis=_axis(title={"text": _("Projects")}, rangemode="tozero", range=[0, max(total, 1) * 1.05]),
        ),
    )
    return _chart("burnup", _("Projects meeting the campaign's target over time"), fig, 300)
