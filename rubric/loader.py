"""Read, validate and store rubric data files (YAML or JSON).

A file is validated completely before anything is written, and the write
happens in one transaction, so a broken file changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils.text import slugify

from rubric.models import POINTED_STATUSES, AnswerStatus

BUILTIN_RUBRIC = Path(__file__).resolve().parent / "data" / "ml-test-score-2017.yaml"
# The statuses a file gives points to; not_applicable is worth `exemption_points` instead, so files written
# before exemptions existed still load unchanged.
STATUSES = POINTED_STATUSES

_TOP_KEYS = {
    "slug",
    "version",
    "title",
    "source",
    "description",
    "translations",
    "points",
    "exemption_points",
    "bands",
    "sections",
}
_SECTION_KEYS = {"key", "title", "translations", "items"}
_ITEM_KEYS = {"code", "title", "guidance", "translations", "allows_not_applicable"}
_BAND_KEYS = {"lower", "upper", "label", "meaning", "translations"}


# Limits on what a rubric file may hold. The rubric is served to everyone (GET /api/v1/rubrics/), so a
# 661-byte YAML "alias bomb" must not become an 80 MB text: files are capped, YAML aliases refused (a
# rubric never needs them) and every text has a length, mostly its database column's.
MAX_FILE_BYTES = 1_000_000  # the built-in rubric is about 54 KB
MAX_LONG_TEXT = 10_000  # descriptions, guidance, band meanings and each translated text
TEXT_LIMITS = {
    "the rubric": {"title": 200, "source": 2000, "description": MAX_LONG_TEXT},
    "section": {"title": 200},
    "item": {"title": 300, "guidance": MAX_LONG_TEXT},
    "band": {"label": 100, "meaning": MAX_LONG_TEXT},
}
MAX_VERSION_LENGTH = 50


class RubricFileError(Exception):
    """The rubric file is unusable; the message names every problem found."""


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases (`*name`, and with them `<<: *name` merges): an alias
    repeats a whole subtree, and aliases of aliases grow a small file exponentially."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in rubric files", mark)
        return super().compose_node(parent, index)


@dataclass
class RubricDocument:
    data: dict[str, Any]
    content_hash: str

    @property
    def slug(self) -> str:
        return str(self.data["slug"])

    @property
    def version(self) -> str:
        return str(self.data["version"])


def read_rubric_file(path: str | Path) -> RubricDocument:
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise RubricFileError(f"Cannot read rubric file {path}: {exc.strerror or exc}.") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise RubricFileError(f"{path} is larger than {MAX_FILE_BYTES:,} bytes; a rubric file is far smaller.")
    kind = "JSON" if path.suffix == ".json" else "YAML"
    try:
        text = raw.decode("utf-8")
        data = json.loads(text) if kind == "JSON" else yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader
    except UnicodeDecodeError as exc:
        raise RubricFileError(f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}.") from exc
    except RecursionError:
        raise RubricFileError(f"{path} is not valid {kind}: it nests too deeply.") from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise RubricFileError(f"{path} is not valid {kind}: {exc}") from exc
    return parse_rubric(data)


def parse_rubric(data: Any) -> RubricDocument:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise RubricFileError("The rubric file must contain a mapping with slug, version, title, points, ...")
    _check_keys(data, "the rubric", {"slug", "version", "title", "points", "bands", "sections"}, _TOP_KEYS, problems)
    slug = data.get("slug")
    if slug is not None and (not isinstance(slug, str) or slugify(slug) != slug):
        problems.append(f"slug {slug!r} must be lowercase letters, digits and hyphens.")
    version = data.get("version")
    if "version" in data and (isinstance(version, bool) or not isinstance(version, str | int | float)):
        problems.append("version must be a text or a number.")
    elif "version" in data and str(version).strip() == "":
        problems.append("version must not be empty.")
    elif "version" in data and len(str(version)) > MAX_VERSION_LENGTH:
        problems.append(f"version must be at most {MAX_VERSION_LENGTH} characters.")
    _check_texts(data, "the rubric", "the rubric", problems)
    _check_translations(data, "the rubric", problems)
    _check_points(data.get("points"), problems)
    _check_exemption_points(data, problems)
    _check_sections(data.get("sections"), problems)
    _check_bands(data.get("bands"), problems)
    if problems:
        raise RubricFileError("The rubric file was refused: " + " ".join(problems))
    canonical = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return RubricDocument(data=data, content_hash=hashlib.sha256(canonical.encode()).hexdigest())


def _check_keys(obj: dict, where: str, required: set[str], allowed: set[str], problems: list[str]) -> None:
    for key in sorted(required - obj.keys()):
        problems.append(f"{where} is missing the key '{key}'.")
    for key in sorted(obj.keys() - allowed):
        problems.append(f"{where} has an unknown key '{key}'.")


def _text_problem(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return "must be a text"
    if len(value) > limit:
        return f"must be at most {limit:,} characters (it has {len(value):,})"
    if "\x00" in value:
        return "must not contain the NUL character"
    return None


def _check_texts(obj: dict, kind: str, where: str, problems: list[str]) -> None:
    """The texts of one rubric, section, item or band: of type text, within their length."""
    for key, limit in TEXT_LIMITS[kind].items():
        if key not in obj or (obj[key] is None and key not in ("title", "label")):
            continue  # a missing required key is reported by _check_keys; empty optional texts are fine
        problem = _text_problem(obj[key], limit)
        if problem:
            problems.append(f"{where}: {key} {problem}.")


def _check_translations(obj: dict, where: str, problems: list[str]) -> None:
    translations = obj.get("translations", {})
    if not isinstance(translations, dict) or not all(
        isinstance(fields, dict) and all(isinstance(v, str) for v in fields.values())
        for fields in translations.values()
    ):
        problems.append(f"translations of {where} must map a language code to texts.")
        return
    for language, fields in translations.items():
        for key, text in fields.items():
            problem = _text_problem(text, MAX_LONG_TEXT)
            if problem:
                problems.append(f"{where}: the {language} translation of {key} {problem}.")


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _check_points(points: Any, problems: list[str]) -> None:
    if points is None:
        return
    if not isinstance(points, dict):
        problems.append("points must map each answer status to a number.")
        return
    for status in points:
        if status == AnswerStatus.NOT_APPLICABLE:
            problems.append(
                "points must not name 'not_applicable': an approved exemption is worth exemption_points "
                "(by default the top points)."
            )
        elif status not in STATUSES:
            problems.append(f"points names an unknown status '{status}' (known: {', '.join(STATUSES)}).")
    values = []
    for status in STATUSES:
        if status not in points:
            problems.append(f"points is missing the status '{status}'.")
            continue
        number = _number(points[status])
        if number is None or number < 0:
            problems.append(f"points for '{status}' must be a number of 0 or more.")
        else:
            values.append(number)
    if len(values) == len(STATUSES) and values != sorted(values):
        problems.append("points must not decrease from not_done to manual to automated.")


def _check_exemption_points(data: dict, problems: list[str]) -> None:
    """exemption_points: optional, a number from the not_done points to the top points, so an exemption
    never scores below not done (the strict score stays at most the score) nor above a met criterion."""
    if "exemption_points" not in data or data["exemption_points"] is None:
        return
    number = _number(data["exemption_points"])
    if number is None:
        problems.append("exemption_points must be a number.")
        return
    points = data.get("points")
    if not isinstance(points, dict):
        return
    if number.as_tuple().exponent < -2 or abs(number) >= 1_000_000:  # type: ignore[operator]  # finite
        problems.append("exemption_points must have at most two decimals and fewer than seven digits.")
        return
    values = [value for value in (_number(points.get(status)) for status in STATUSES) if value is not None]
    if len(values) < len(STATUSES):
        return  # the points themselves are reported by _check_points
    low, high = min(values), max(values)
    if not low <= number <= high:
        problems.append(
            f"exemption_points must be between the points for not_done and the top points ({low} to {high}); "
            f"it is {number}."
        )


def _check_sections(sections: Any, problems: list[str]) -> None:
    if sections is None:
        return
    if not isinstance(sections, list) or not sections:
        problems.append("sections must be a non-empty list.")
        return
    seen_keys: set[str] = set()
    seen_codes: set[str] = set()
    for index, section in enumerate(sections, start=1):
        if not isinstance(section, dict):
            problems.append(f"section {index} must be a mapping.")
            continue
        where = f"section {section.get('key') or index}"
        _check_keys(section, where, {"key", "title", "items"}, _SECTION_KEYS, problems)
        _check_texts(section, "section", where, problems)
        _check_translations(section, where, problems)
        key = section.get("key")
        if key is not None and (not isinstance(key, str) or slugify(key) != key):
            problems.append(f"{where}: key {key!r} must be lowercase letters, digits and hyphens.")
        elif key in seen_keys:
            problems.append(f"the section key '{key}' is used twice.")
        seen_keys.add(str(key))
        items = section.get("items")
        if "items" in section and (not isinstance(items, list) or not items):
            problems.append(f"{where} must have a non-empty list of items.")
            continue
        for position, item in enumerate(items or [], start=1):
            if not isinstance(item, dict):
                problems.append(f"{where}: item {position} must be a mapping.")
                continue
            code = item.get("code")
            item_where = f"item {code or f'{position} of {where}'}"
            _check_keys(item, item_where, {"code", "title"}, _ITEM_KEYS, problems)
            _check_texts(item, "item", item_where, problems)
            _check_translations(item, item_where, problems)
            if code is not None and (not isinstance(code, str) or slugify(code) != code):
                problems.append(f"{item_where}: code {code!r} must be lowercase letters, digits and hyphens.")
            elif code in seen_codes:
                problems.append(f"the item code '{code}' is used twice.")
            seen_codes.add(str(code))
            if "allows_not_applicable" in item and not isinstance(item["allows_not_applicable"], bool):
                problems.append(f"{item_where}: allows_not_applicable must be true or false.")


def _check_bands(bands: Any, problems: list[str]) -> None:
    if bands is None:
        return
    if not isinstance(bands, list) or not bands:
        problems.append("bands must be a non-empty list.")
        return
    previous_upper: Decimal | None = None
    for index, band in enumerate(bands, start=1):
        if not isinstance(band, dict):
            problems.append(f"band {index} must be a mapping.")
            return
        where = f"band {index} ({band.get('label', 'no label')})"
        _check_keys(band, where, {"label"}, _BAND_KEYS, problems)
        _check_texts(band, "band", where, problems)
        _check_translations(band, where, problems)
        lower = _number(band["lower"]) if "lower" in band else None
        upper = _number(band["upper"]) if "upper" in band else None
        if ("lower" in band and lower is None) or ("upper" in band and upper is None):
            problems.append(f"{where}: bounds must be numbers.")
            return
        if index == 1 and lower is not None:
            problems.append(f"{where}: the first band must have no lower bound, or low scores fall in a gap.")
        if index == len(bands) and upper is not None:
            problems.append(f"{where}: the last band must have no upper bound, or high scores fall in a gap.")
        if index < len(bands) and upper is None:
            problems.append(f"{where}: only the last band may be open-ended above.")
            return
        if lower is not None and upper is not None and lower >= upper:
            problems.append(f"{where}: lower bound {lower} must be below upper bound {upper}.")
        if index > 1 and lower is not None and previous_upper is not None:
            if lower < previous_upper:
                problems.append(f"{where} overlaps the band before it ({lower} < {previous_upper}).")
            elif lower > previous_upper:
                problems.append(f"{where} leaves a gap after the band before it ({previous_upper} to {lower}).")
        elif index > 1 and lower is None:
            problems.append(f"{where}: only the first band may be open-ended below.")
        previous_upper = upper


GetModel = Callable[[str, str], Any]


def _default_get_model(app_label: str, model_name: str) -> Any:
    from django.apps import apps

    return apps.get_model(app_label, model_name)


def save_rubric(document: RubricDocument, get_model: GetModel = _default_get_model) -> tuple[Any, str]:
    """Store a validated document; returns (rubric, "created" | "unchanged" | "replaced").

    `get_model` lets the data migration pass its historical models.
    """
    Rubric = get_model("rubric", "Rubric")
    Section = get_model("rubric", "Section")
    Item = get_model("rubric", "Item")
    ScoreBand = get_model("rubric", "ScoreBand")
    data = document.data
    # The data migration that loads the built-in rubric passes models from before exemptions existed.
    rubric_extra = {}
    if _has_field(Rubric, "exemption_points") and data.get("exemption_points") is not None:
        rubric_extra["exemption_points"] = _number(data["exemption_points"])
    items_know_exemptions = _has_field(Item, "allows_not_applicable")
    with transaction.atomic():
        existing = Rubric.objects.select_for_update().filter(slug=document.slug, version=document.version).first()
        outcome = "created"
        if existing is not None:
            if existing.content_hash == document.content_hash:
                return existing, "unchanged"
            if _is_used_by_audits(existing, get_model):
                raise RubricFileError(
                    f"Rubric {document.slug} version {document.version} is already used by audits and is never "
                    "edited in place: give the changed file a new version."
                )
            existing.delete()
            outcome = "replaced"
        rubric = Rubric.objects.create(
            slug=document.slug,
            version=document.version,
            title=data["title"],
            source=data.get("source", "") or "",
            description=data.get("description", "") or "",
            translations=data.get("translations", {}) or {},
            points={status: float(Decimal(str(data["points"][status]))) for status in STATUSES},
            content_hash=document.content_hash,
            **rubric_extra,
        )
        for band_order, band in enumerate(data["bands"], start=1):
            ScoreBand.objects.create(
                rubric=rubric,
                order=band_order,
                lower=_number(band.get("lower")) if "lower" in band else None,
                upper=_number(band.get("upper")) if "upper" in band else None,
                label=band["label"],
                meaning=band.get("meaning", "") or "",
                translations=band.get("translations", {}) or {},
            )
        for section_order, section_data in enumerate(data["sections"], start=1):
            section = Section.objects.create(
                rubric=rubric,
                key=section_data["key"],
                title=section_data["title"],
                order=section_order,
                translations=section_data.get("translations", {}) or {},
            )
            Item.objects.bulk_create(
                Item(
                    rubric=rubric,
                    section=section,
                    code=item["code"],
                    title=item["title"],
                    guidance=(item.get("guidance") or "").strip(),
                    order=item_order,
                    translations=item.get("translations", {}) or {},
                    **(
                        {"allows_not_applicable": item.get("allows_not_applicable", True)}
                        if items_know_exemptions
                        else {}
                    ),
                )
                for item_order, item in enumerate(section_data["items"], start=1)
            )
    return rubric, outcome


def _has_field(model: Any, name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())


def _is_used_by_audits(rubric: Any, get_model: GetModel) -> bool:
    try:
        Audit = get_model("audits", "Audit")
    except LookupError:  # the audits app is not migrated yet
        return False
    return bool(Audit.objects.filter(rubric_id=rubric.pk).exists())


def load_rubric_file(path: str | Path, get_model: GetModel = _default_get_model) -> tuple[Any, str]:
    return save_rubric(read_rubric_file(path), get_model)
