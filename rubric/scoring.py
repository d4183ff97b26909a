"""The one place where scores are computed.

Pure functions over plain data (no ORM): pages, API, badges, trends and
benchmarks all call `score_answers`. Nothing here assumes four sections of
seven items: the shape comes from the rubric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rubric.statuses import NOT_APPLICABLE, NOT_DONE

# In the answers given to score_answers, NOT_APPLICABLE means an exemption that counts (approved, not
# expired): the caller decides that (audits.exemptions.rules.counted_status) and passes a pending, rejected
# or expired one as not done, so this module stays free of dates and approvals.


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    item_codes: tuple[str, ...]


@dataclass(frozen=True)
class BandSpec:
    """The interval (lower, upper]; None means unbounded on that side."""

    lower: Decimal | None
    upper: Decimal | None
    label: str
    meaning: str = ""

    def contains(self, value: Decimal) -> bool:
        above_lower = self.lower is None or value > self.lower
        within_upper = self.upper is None or value <= self.upper
        return above_lower and within_upper


@dataclass(frozen=True)
class RubricSpec:
    sections: tuple[SectionSpec, ...]
    points: Mapping[str, Decimal]
    bands: tuple[BandSpec, ...]
    # What an approved exemption is worth; None: the top points (as for a met criterion).
    exemption_points: Decimal | None = None

    @property
    def max_points_per_item(self) -> Decimal:
        return max(self.points.values(), default=Decimal(0))

    @property
    def points_per_exemption(self) -> Decimal:
        return self.max_points_per_item if self.exemption_points is None else self.exemption_points


@dataclass(frozen=True)
class SectionScore:
    key: str
    title: str
    score: Decimal
    max: Decimal
    answered: int
    total: int


@dataclass(frozen=True)
class ScoreResult:
    sections: tuple[SectionScore, ...]
    final: Decimal
    band: BandSpec | None
    weakest: tuple[str, ...]
    answered: int
    total: int
    # The same answers with every exemption counted as not done: the paper's score without exemptions.
    final_strict: Decimal = Decimal(0)
    exempted: tuple[str, ...] = ()  # codes of the items whose exemption counts, in rubric order

    def section(self, key: str) -> SectionScore:
        return next(s for s in self.sections if s.key == key)


class UnknownStatusError(ValueError):
    pass


def points_for(spec: RubricSpec, status: str | None) -> Decimal:
    """Points one answer is worth; no answer counts as not done."""
    if status is None:
        status = NOT_DONE
    if status == NOT_APPLICABLE and status not in spec.points:  # a rubric's points never name it (the loader)
        return spec.points_per_exemption
    try:
        return spec.points[status]
    except KeyError:
        raise UnknownStatusError(f"Unknown answer status {status!r}.") from None


def band_for(bands: Sequence[BandSpec], value: Decimal) -> BandSpec | None:
    return next((band for band in bands if band.contains(value)), None)


def score_answers(spec: RubricSpec, answers: Mapping[str, str | None]) -> ScoreResult:
    """Score a set of answers {item code: status}; missing codes count as not done.

    Section score = sum of its items' points; final = minimum of the section
    scores (the weakest section sets the score); weakest = every section at
    that minimum. An answer `not_applicable` is a counted exemption; final_strict
    scores it as not done.
    """
    section_scores = []
    strict_scores = []
    exempted = []
    for section in spec.sections:
        statuses = [answers.get(code) for code in section.item_codes]
        exempted += [code for code in section.item_codes if answers.get(code) == NOT_APPLICABLE]
        strict_scores.append(
            sum((points_for(spec, NOT_DONE if s == NOT_APPLICABLE else s) for s in statuses), Decimal(0))
        )
        section_scores.append(
            SectionScore(
                key=section.key,
                title=section.title,
                score=sum((points_for(spec, status) for status in statuses), Decimal(0)),
                max=spec.max_points_per_item * len(section.item_codes),
                answered=sum(1 for status in statuses if status is not None),
                total=len(section.item_codes),
            )
        )
    final = min((s.score for s in section_scores), default=Decimal(0))
    return ScoreResult(
        sections=tuple(section_scores),
        final=final,
        band=band_for(spec.bands, final),
        weakest=tuple(s.key for s in section_scores if s.score == final),
        answered=sum(s.answered for s in section_scores),
        total=sum(s.total for s in section_scores),
        final_strict=min(strict_scores, default=Decimal(0)),
        exempted=tuple(exempted),
    )
