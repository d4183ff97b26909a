"""Reads of rubric data, shaped for rubric.scoring."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from django.db.models import Prefetch, QuerySet

from rubric.models import Item, Rubric, ScoreBand
from rubric.scoring import BandSpec, RubricSpec, SectionSpec

BUILTIN_SLUG = "ml-test-score"

# Per-process caches keyed by (id, content hash): a rubric version is immutable once audits use it and a
# reloaded rubric gets a new content hash, so an entry never goes stale; bounded so a server that loads many
# rubric versions over its life does not grow without end.
RUBRIC_CACHE_SIZE = 64


def rubric_with_structure(rubric_id: int) -> Rubric:
    """The rubric with sections, items and bands fetched in four queries."""
    return Rubric.objects.prefetch_related(
        "sections",
        Prefetch("items", queryset=Item.objects.select_related("section").order_by("section__order", "order")),
        Prefetch("bands", queryset=ScoreBand.objects.order_by("order")),
    ).get(pk=rubric_id)


def rubric_spec(rubric: Rubric) -> RubricSpec:
    """The scoring spec of a rubric version (cached per process by id and content hash)."""
    return _rubric_spec(rubric.pk, rubric.content_hash)


@lru_cache(maxsize=RUBRIC_CACHE_SIZE)
def _rubric_spec(rubric_id: int, content_hash: str) -> RubricSpec:
    full = rubric_with_structure(rubric_id)
    items = list(full.items.all())
    sections = tuple(
        SectionSpec(
            key=section.key,
            title=section.title,
            item_codes=tuple(item.code for item in items if item.section_id == section.pk),
        )
        for section in full.sections.all()
    )
    return RubricSpec(
        sections=sections,
        points={status: Decimal(str(value)) for status, value in full.points.items()},
        bands=tuple(
            BandSpec(lower=band.lower, upper=band.upper, label=band.label, meaning=band.meaning)
            for band in full.bands.all()
        ),
        exemption_points=None if full.exemption_points is None else Decimal(full.exemption_points),
    )


def item_ids(rubric: Rubric) -> dict[str, int]:
    """Item code -> item id of a rubric version, cached per process like rubric_spec (answer saves use it
    to find their item and to read the codes of the answers they lock, with no query of their own)."""
    return _item_ids(rubric.pk, rubric.content_hash)


@lru_cache(maxsize=RUBRIC_CACHE_SIZE)
def _item_ids(rubric_id: int, content_hash: str) -> dict[str, int]:
    return dict(Item.objects.filter(rubric_id=rubric_id).values_list("code", "pk"))


def rubric_reference(*, rubric_id: int, content_hash: str) -> Rubric:
    """A rubric known only by id and content hash, as a query of audits returns them.

    Enough for rubric_spec and the dashboards' label cache, which are keyed by exactly these two
    and load the rest on a miss: pages that already read the audits need no query for their rubric.
    """
    return Rubric(pk=rubric_id, content_hash=content_hash)


def default_rubric() -> Rubric | None:
    """The newest loaded version of the built-in ML Test Score rubric, else the newest rubric."""
    return (
        Rubric.objects.filter(slug=BUILTIN_SLUG).order_by("-loaded_at").first()
        or Rubric.objects.order_by("-loaded_at").first()
    )


def band_labels_localized(language: str | None = None) -> dict[str, str]:
    """Stored band label -> the label in the active language, over every loaded rubric (one query).

    Submitted audits store their band label as text, so pages translate it through this map."""
    return {band.label: band.localized("label", language) for band in ScoreBand.objects.all()}


def rubric_by_slug(slug: str, version: str | None = None) -> Rubric | None:
    """A rubric version by slug: the given version, else the newest loaded."""
    rubrics = Rubric.objects.filter(slug=slug)
    if version:
        rubrics = rubrics.filter(version=version)
    return rubrics.order_by("-loaded_at", "-pk").first()


def rubric_versions(slug: str) -> list[str]:
    return list(Rubric.objects.filter(slug=slug).order_by("-loaded_at", "-pk").values_list("version", flat=True))


def rubrics_with_bands() -> QuerySet[Rubric]:
    """Every loaded rubric version, by slug then newest first, with its bands prefetched."""
    return Rubric.objects.prefetch_related(Prefetch("bands", queryset=ScoreBand.objects.order_by("order"))).order_by(
        "slug", "-loaded_at", "-pk"
    )


def items_allowing_not_applicable(rubric: Rubric) -> frozenset[str]:
    """Codes of the rubric's items that may be answered not applicable, cached per process like item_ids."""
    return _items_allowing_not_applicable(rubric.pk, rubric.content_hash)


@lru_cache(maxsize=RUBRIC_CACHE_SIZE)
def _items_allowing_not_applicable(rubric_id: int, content_hash: str) -> frozenset[str]:
    return frozenset(
        Item.objects.filter(rubric_id=rubric_id, allows_not_applicable=True).values_list("code", flat=True)
    )
