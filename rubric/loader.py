"""Read, validate and store rubric data files (YAML or JSON).

A file is validated completely before anything is written, and the write
happens in one transaction, so a broken file changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from pydantic import ValidationError

from rubric.schema import STATUSES, RubricSchema, refusal_sentences

BUILTIN_RUBRIC = Path(__file__).resolve().parent / "data" / "ml-test-score-2017.yaml"

# A file is capped before it is parsed: the rubric is served to everyone (GET /api/v1/rubrics/), so a 661-byte
# YAML "alias bomb" must not become an 80 MB text. Aliases are refused (a rubric never needs them); the
# lengths of the texts inside are the schema's (rubric.schema).
MAX_FILE_BYTES = 1_000_000  # the built-in rubric is about 54 KB


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
    data: dict[str, Any]  # the file as read
    content_hash: str
    content: RubricSchema  # the file as validated: what is stored

    @property
    def slug(self) -> str:
        return self.content.slug

    @property
    def version(self) -> str:
        return self.content.version


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
    """Validate `data` against the schema (rubric.schema); every problem is named at once."""
    try:
        content = RubricSchema.model_validate(data)
    except ValidationError as exc:
        raise RubricFileError("The rubric file was refused: " + " ".join(refusal_sentences(exc, data))) from exc
    # The hash is of the file as written, so a database loaded before the schema sees the same file unchanged.
    canonical = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return RubricDocument(data=data, content_hash=hashlib.sha256(canonical.encode()).hexdigest(), content=content)


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
    content = document.content
    # The data migration that loads the built-in rubric passes models from before exemptions existed.
    rubric_extra = {}
    if _has_field(Rubric, "exemption_points") and content.exemption_points is not None:
        rubric_extra["exemption_points"] = content.exemption_points
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
            slug=content.slug,
            version=content.version,
            title=content.title,
            source=content.source or "",
            description=content.description or "",
            translations=content.translations,
            points={status: float(content.points[status]) for status in STATUSES},
            content_hash=document.content_hash,
            **rubric_extra,
        )
        for band_order, band in enumerate(content.bands, start=1):
            ScoreBand.objects.create(
                rubric=rubric,
                order=band_order,
                lower=band.lower,
                upper=band.upper,
                label=band.label,
                meaning=band.meaning or "",
                translations=band.translations,
            )
        for section_order, section_content in enumerate(content.sections, start=1):
            section = Section.objects.create(
                rubric=rubric,
                key=section_content.key,
                title=section_content.title,
                order=section_order,
                translations=section_content.translations,
            )
            Item.objects.bulk_create(
                Item(
                    rubric=rubric,
                    section=section,
                    code=item.code,
                    title=item.title,
                    guidance=(item.guidance or "").strip(),
                    order=item_order,
                    translations=item.translations,
                    **({"allows_not_applicable": item.allows_not_applicable} if items_know_exemptions else {}),
                )
                for item_order, item in enumerate(section_content.items, start=1)
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
