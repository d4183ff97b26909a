"""Reads for the audit result, trend and compare pages, and the rubric labels every dashboard shares.

Visibility comes from audits.selectors, scores from rubric.scoring (the portfolio: portfolio_selectors).

Every function here runs a fixed number of queries, whatever the number of projects, audits or answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.utils.translation import get_language

from audits.exemptions.formatting import exemption_note
from audits.exemptions.rules import audit_score_day, counted_status, counted_statuses
from audits.models import Answer, Audit, AuditStatus, Project
from audits.selectors import audit_score, project_trend
from rubric.models import AnswerStatus, Item, Rubric, ScoreBand
from rubric.scoring import NOT_DONE, RubricSpec, ScoreResult, score_answers
from rubric.selectors import RUBRIC_CACHE_SIZE, default_rubric, rubric_reference, rubric_spec

# Status order for "better / worse" between two audits: a test done by hand beats one not done, and so on.
# A counted exemption is worth a met criterion (by default), so it ranks with automated.
STATUS_RANK = {
    AnswerStatus.NOT_DONE: 0,
    AnswerStatus.MANUAL: 1,
    AnswerStatus.AUTOMATED: 2,
    AnswerStatus.NOT_APPLICABLE: 2,
}


# Rubric labels ---------------------------------------------------------------


@dataclass(frozen=True)
class BandLabel:
    label: str  # the stored (English) label, stable for filters
    title: str  # localized label
    meaning: str  # localized meaning
    lower: Decimal | None
    upper: Decimal | None


def band_labels(*, rubric_id: int) -> list[BandLabel]:
    """The rubric's bands in order, localized for the current language (one query)."""
    return [
        BandLabel(
            label=band.label,
            title=band.localized("label"),
            meaning=band.localized("meaning"),
            lower=band.lower,
            upper=band.upper,
        )
        for band in ScoreBand.objects.filter(rubric_id=rubric_id).order_by("order")
    ]


def rubric_items(*, rubric_id: int) -> list[Item]:
    """The rubric's items with their sections, in questionnaire order (one query)."""
    return list(Item.objects.filter(rubric_id=rubric_id).select_related("section").order_by("section__order", "order"))


@dataclass(frozen=True)
class RubricLabels:
    bands: list[BandLabel]
    items: list[Item]
    section_titles: dict[str, str]


def rubric_labels(rubric: Rubric) -> RubricLabels:
    """The rubric's bands, items and section titles in the current language, cached per process.

    Safe for the same reason as rubric.selectors.rubric_spec: a rubric version that audits use is never
    edited in place, and a reloaded rubric gets a new content hash, hence a new cache key.
    """
    return _rubric_labels(rubric.pk, rubric.content_hash, get_language() or "en")


@lru_cache(maxsize=RUBRIC_CACHE_SIZE * 4)  # a few interface languages per rubric version
def _rubric_labels(rubric_id: int, content_hash: str, language: str) -> RubricLabels:
    items = rubric_items(rubric_id=rubric_id)
    return RubricLabels(bands=band_labels(rubric_id=rubric_id), items=items, section_titles=_section_titles(items))


def section_maxima(spec: RubricSpec) -> dict[str, Decimal]:
    """Each section's maximum, as the scoring function states it (so chart axes always agree with it)."""
    return {section.key: section.max for section in score_answers(spec, {}).sections}


# Audit result ----------------------------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    item: Item
    answer: Answer | None

    @property
    def status(self) -> str:
        return self.answer.status if self.answer else NOT_DONE

    @property
    def title(self) -> str:
        return str(self.item.localized("title"))


@dataclass(frozen=True)
class AuditResult:
    audit: Audit
    score: ScoreResult
    items: list[ItemRow]
    bands: list[BandLabel]
    section_titles: dict[str, str]

    @property
    def exemptions_note(self) -> str:
        """How many exemptions the score counts, and the score without them where it differs."""
        return exemption_note(len(self.score.exempted), self.score.final, self.score.final_strict)

    @property
    def band(self) -> BandLabel | None:
        if self.score.band is None:
            return None
        return next((band for band in self.bands if band.label == self.score.band.label), None)


def audit_result(*, audit: Audit) -> AuditResult:
    """Score, band and every item's answer for one audit (one query once the rubric is cached)."""
    answers = {answer.item_id: answer for answer in audit.answers.select_related("item", "answered_by")}
    score = audit_score(audit=audit, status_map=counted_statuses(answers.values(), audit_score_day(audit)))
    labels = rubric_labels(audit.rubric)
    return AuditResult(
        audit=audit,
        score=score,
        items=[ItemRow(item=item, answer=answers.get(item.pk)) for item in labels.items],
        bands=labels.bands,
        section_titles=labels.section_titles,
    )


def _section_titles(items: Iterable[Item]) -> dict[str, str]:
    return {item.section.key: item.section.localized("title") for item in items}


# Project trend ---------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    project: Project
    points: list[Any]  # audits.selectors.TrendPoint, oldest first
    bands: list[BandLabel]
    section_titles: dict[str, str]
    section_max: Decimal


def trend_for_project(*, project: Project) -> Trend:
    """The project's submitted scores over time with the bands and sections of its current rubric.

    The current rubric is the latest audit's; its labels are cached, so this is one query in all.
    """
    points = project_trend(project=project)
    if points:
        rubric: Rubric | None = rubric_reference(
            rubric_id=points[-1].rubric_id, content_hash=points[-1].rubric_content_hash
        )
    else:
        rubric = default_rubric()
    if rubric is None:
        return Trend(project=project, points=points, bands=[], section_titles={}, section_max=Decimal(0))
    maxima = section_maxima(rubric_spec(rubric))
    labels = rubric_labels(rubric)
    return Trend(
        project=project,
        points=points,
        bands=labels.bands,
        section_titles=labels.section_titles,
        section_max=max(maxima.values(), default=Decimal(0)),
    )


# Comparison ------------------------------------------------------------------


@dataclass(frozen=True)
class ItemChange:
    item: Item
    before: str
    after: str

    @property
    def title(self) -> str:
        return str(self.item.localized("title"))

    @property
    def direction(self) -> str:
        """ "up", "down" or "same" from the earlier audit to the later one."""
        delta = STATUS_RANK[AnswerStatus(self.after)] - STATUS_RANK[AnswerStatus(self.before)]
        return "up" if delta > 0 else "down" if delta < 0 else "same"


@dataclass(frozen=True)
class SectionDelta:
    key: str
    title: str
    before: Decimal
    after: Decimal
    max: Decimal

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


@dataclass(frozen=True)
class Comparison:
    before: Audit
    after: Audit
    before_score: ScoreResult
    after_score: ScoreResult
    items: list[ItemChange]
    sections: list[SectionDelta]

    @property
    def final_delta(self) -> Decimal:
        return self.after_score.final - self.before_score.final

    def count(self, direction: str) -> int:
        return sum(1 for change in self.items if change.direction == direction)

    @property
    def count_up(self) -> int:
        return self.count("up")

    @property
    def count_down(self) -> int:
        return self.count("down")

    @property
    def count_same(self) -> int:
        return self.count("same")


def comparable_audits(*, project: Project) -> list[Audit]:
    """The project's submitted audits, newest first, for choosing what to compare."""
    return list(
        Audit.objects.filter(project=project, status=AuditStatus.SUBMITTED)
        .select_related("submitted_by", "rubric")
        .order_by("-submitted_at", "-pk")
    )


def compare_audits(*, before: Audit, after: Audit) -> Comparison:
    """Per-item status changes and per-section score deltas between two audits of one project."""
    status_maps: dict[int, dict[str, str]] = {before.pk: {}, after.pk: {}}
    days = {before.pk: audit_score_day(before), after.pk: audit_score_day(after)}
    for audit_id, code, status, state, expires_on in (
        Answer.objects.filter(audit_id__in=[before.pk, after.pk])
        .order_by()
        .values_list("audit_id", "item__code", "status", "exemption_state", "expires_on")
    ):
        status_maps[audit_id][code] = counted_status(status, state, expires_on, days[audit_id])
    before_score = audit_score(audit=before, status_map=status_maps[before.pk])
    after_score = audit_score(audit=after, status_map=status_maps[after.pk])
    labels = rubric_labels(after.rubric)
    items, titles = labels.items, labels.section_titles
    sections = []
    for section in after_score.sections:
        earlier = next((s for s in before_score.sections if s.key == section.key), None)
        sections.append(
            SectionDelta(
                key=section.key,
                title=titles.get(section.key, section.title),
                before=earlier.score if earlier else Decimal(0),
                after=section.score,
                max=section.max,
            )
        )
    return Comparison(
        before=before,
        after=after,
        before_score=before_score,
        after_score=after_score,
        items=[
            ItemChange(
                item=item,
                before=status_maps[before.pk].get(item.code, NOT_DONE),
                after=status_maps[after.pk].get(item.code, NOT_DONE),
            )
            for item in items
        ],
        sections=sections,
    )
