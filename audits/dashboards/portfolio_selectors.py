"""Reads for the portfolio page: every visible project's latest scores, most-missed tests, status heatmap.

Projects are filtered and sorted in SQL by audits.api.filters.ProjectFilter, the API's filter set; a
thousand of them are counted and paged from plain values (one query), and only the page's projects are
detailed; every function runs a fixed number of queries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.http import QueryDict

from audits.api.filters import ProjectFilter
from audits.dashboards.selectors import BandLabel, RubricLabels, rubric_labels
from audits.exemptions.rules import counted_status, score_day
from audits.models import Answer, Project, Tag, Team
from audits.selectors import PortfolioRow, portfolio_queryset, portfolio_rows, visible_projects, visible_teams
from audits.types import Actor
from rubric.models import AnswerStatus, Item, Rubric
from rubric.scoring import NOT_DONE
from rubric.selectors import default_rubric

# The sort keys the page's column headers offer: names of audits.api.filters.ProjectFilter's ordering.
PORTFOLIO_SORTS = ("name", "score", "change", "last_audit", "due")
# Filter parameters that the band counts ignore: the chart shows every band, each linking to its filter.
_BAND_COUNT_IGNORES = ("band", "ordering", "page")


@dataclass(frozen=True)
class ItemMisses:
    item: Item
    not_done: int
    manual: int
    automated: int
    audited: int

    @property
    def title(self) -> str:
        return str(self.item.localized("title"))

    @property
    def percent_missed(self) -> int:
        return round(100 * self.not_done / self.audited) if self.audited else 0


@dataclass(frozen=True)
class Portfolio:
    entries: list[PortfolioRow]  # after filters and sorting, all pages
    projects: QuerySet[Project]  # the same projects as a query (filtered, unordered), for reads of their audits
    filters: ProjectFilter  # the bound filter set: its form holds the values the page shows
    teams: list[Team]  # every team the user sees, for the filter
    tags: list[Tag]  # every tag of a project the user sees, for the filter
    rubric: Rubric | None
    bands: list[BandLabel]
    items: list[Item]  # the main rubric's items, in order
    item_codes: dict[int, str]  # item id -> code for every rubric the rows' latest audits use
    band_counts: list[tuple[BandLabel | None, int]]  # None: projects without a submitted audit


def portfolio(*, user: Actor, params: Mapping[str, Any] | None = None) -> Portfolio:
    """Every visible project's latest score, filtered and sorted by ProjectFilter (the API's filter set)."""
    data = QueryDict(mutable=True)
    for key, value in (params or {}).items():
        data[key] = value
    if not data.get("ordering"):
        data["ordering"] = "name"
    visible = portfolio_queryset(user=user)
    filters = ProjectFilter(data, queryset=visible)
    projects: QuerySet[Project] = filters.qs
    entries = portfolio_rows(user=user, projects=projects)
    # Entries without a submitted audit have no rubric; the others say which version their latest audit used.
    rubric_ids: Counter[int] = Counter(entry.rubric_id for entry in entries if entry.rubric_id is not None)
    rubric = _main_rubric(rubric_ids)
    labels = rubric_labels(rubric) if rubric else RubricLabels(bands=[], items=[], section_titles={})
    item_codes = {item.pk: item.code for item in labels.items}
    older_rubric_ids: set[int] = set(rubric_ids) - {rubric.pk} if rubric else set()
    if older_rubric_ids:
        item_codes.update(Item.objects.filter(rubric_id__in=older_rubric_ids).values_list("pk", "code"))
    band_filter = filters.form.cleaned_data.get("band") if filters.is_valid() else ""
    if band_filter:
        # The counts ignore the band filter (and only it): one grouped query over the same filter set.
        unbanded = data.copy()
        for key in _BAND_COUNT_IGNORES:
            unbanded.pop(key, None)
        grouped = (
            ProjectFilter(unbanded, queryset=visible).qs.order_by().values_list("latest_band").annotate(n=Count("pk"))
        )
        counts: Counter[str | None] = Counter({label or None: n for label, n in grouped})
    else:
        counts = Counter(entry.band.label if entry.band else None for entry in entries)
    band_counts: list[tuple[BandLabel | None, int]] = [(band, counts.get(band.label, 0)) for band in labels.bands]
    band_counts.append((None, counts.get(None, 0)))
    return Portfolio(
        entries=entries,
        projects=projects.order_by(),
        filters=filters,
        teams=list(visible_teams(user=user).order_by("name")),
        tags=list(Tag.objects.filter(projects__in=visible_projects(user=user)).distinct().order_by("slug")),
        rubric=rubric,
        bands=labels.bands,
        items=labels.items,
        item_codes=item_codes,
        band_counts=band_counts,
    )


def _main_rubric(rubric_ids: Counter[int]) -> Rubric | None:
    """The rubric most latest audits use (else the default one); heatmap rows and band names come from it."""
    if not rubric_ids:
        return default_rubric()
    return Rubric.objects.filter(pk=rubric_ids.most_common(1)[0][0]).first()


def latest_status_matrix(*, audit_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """{audit id: {item code: counted status}} for the given audits, in one query (an exemption shows only
    when it counted on the day the audit was submitted)."""
    matrix: dict[int, dict[str, str]] = {audit_id: {} for audit_id in audit_ids}
    # order_by(): Answer's default ordering would join every audit (by their creation date) for nothing.
    answers = (
        Answer.objects.filter(audit_id__in=list(audit_ids))
        .order_by()
        .values_list("audit_id", "item__code", "status", "exemption_state", "expires_on", "audit__submitted_at")
    )
    for audit_id, code, status, state, expires_on, submitted_at in answers:
        day = score_day(submitted_at=submitted_at)
        matrix[audit_id][code] = counted_status(status, state, expires_on, day)
    return matrix


def most_missed_items(
    *, items: Sequence[Item], item_codes: dict[int, str], audit_ids: Sequence[int]
) -> list[ItemMisses]:
    """The items ranked by how many of the audits leave them not done (an unanswered item counts as not done).

    One aggregate query over the audits' answers, grouped by item id (`item_codes` maps ids of every rubric
    version in use to codes, so audits on older versions count under the same test).
    """
    done: Counter[tuple[str, str]] = Counter()
    for item_id, status, count in (
        Answer.objects.filter(audit_id__in=list(audit_ids))
        .exclude(status=NOT_DONE)
        .values_list("item_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        done[(item_codes.get(item_id, ""), status)] += count
    audited = len(audit_ids)
    ranked = []
    for item in items:
        manual = done[(item.code, AnswerStatus.MANUAL)]
        automated = done[(item.code, AnswerStatus.AUTOMATED)]
        ranked.append(
            ItemMisses(
                item=item, not_done=audited - manual - automated, manual=manual, automated=automated, audited=audited
            )
        )
    # Stable sort: ties keep the rubric's order.
    return sorted(ranked, key=lambda misses: (-misses.not_done, -misses.manual))
