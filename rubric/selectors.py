"""Reads of rubric data, shaped for rubric.scoring."""

from __future__ import annotations

from decimal import Decimal
from threading import Lock

from django.db.models import Prefetch, QuerySet

from rubric.models import Item, Rubric, ScoreBand
from rubric.scoring import BandSpec, RubricSpec, SectionSpec

BUILTIN_SLUG = "ml-test-score"

_spec_cache: dict[tuple[int, str], RubricSpec] = {}
_spec_cache_lock = Lock()


def rubric_with_structure(rubric_id: int) -> Rubric:
    """The rubric with sections, items and bands fetched in four queries."""
    return Rubric.objects.prefetch_related(
        "sections",
        Prefetch("items", queryset=Item.objects.select_related("section").order_by("section__order", "order")),
        Prefetch("bands", queryset=ScoreBand.objects.order_by("order")),
    ).get(pk=rubric_id)


def rubric_spec(rubric: Rubric) -> RubricSpec:
    """The scoring spec of a rubric version, cached by id and content hash.

    A rubric version is immutable once loaded (a replacement gets a new
    content hash), so caching per process is safe.
    """
    key = (rubric.pk, rubric.content_hash)
    cached = _spec_cache.get(key)
    if cached is not None:
        return cached
    full = rubric_with_structure(rubric.pk)
    items = list(full.items.all())
    sections = tuple(
        SectionSpec(
            key=section.key,
            title=section.title,
            item_codes=tuple(item.code for item in items if item.section_id == section.pk),
        )
        for section in full.sections.all()
    )
    spec = RubricSpec(
        sections=sections,
        points={status: Decimal(str(value)) for status, value in full.points.items()},
        bands=tuple(
            BandSpec(lower=band.lower, upper=band.upper, label=band.label, meaning=band.meaning)
            for band in full.bands.all()
        ),
        exemption_points=None if full.exemption_points is None else Decimal(full.exemption_points),
    )
    with _spec_cache_lock:
        _spec_cache[key] = spec
    return spec


_item_ids_cache: dict[tuple[int, str], dict[str, int]] = {}


def item_ids(rubric: Rubric) -> dict[str, int]:
    """Item code -> item id of a rubric version, cached per process like rubric_spec (answer saves use it
    to find their item and to read the codes of the answers they lock, with no query of their own)."""
    key = (rubric.pk, rubric.content_hash)
    cached = _item_ids_cache.get(key)
    if cached is None:
        cached = dict(Item.objects.filter(rubric_id=rubric.pk).values_list("code", "pk"))
        with _spec_cache_lock:
            _item_ids_cache[key] = cached
    return cached


def rubric_spec_by_id(rubric_id: int) -> RubricSpec:
    cached = next((spec for (pk, _hash), spec in _spec_cache.items() if pk == rubric_id), None)
    return cached or rubric_spec(Rubric.objects.only("pk", "content_hash").get(pk=rubric_id))


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


_not_applicable_cache: dict[tuple[int, str], frozenset[str]] = {}


def items_allowing_not_applicable(rubric: Rubric) -> frozenset[str]:
    """Codes of the rubric's items that may be answered not applicable, cached per process like item_ids."""
    key = (rubric.pk, rubric.content_hash)
    cached = _not_applicable_cache.get(key)
    if cached is None:
        codes = Item.objects.filter(rubric_id=rubric.pk, allows_not_applicable=True).values_list("code", flat=True)
        cached = frozenset(codes)
        with _spec_cache_lock:
            _not_applicable_cache[key] = cached
    return cached
