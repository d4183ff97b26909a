"""The rubric file format, declared once as pydantic models.

The models are the definition of what a rubric file may hold: its keys (extra="forbid"), their types, the
lengths of texts and the precision of numbers (read from the database columns they are stored in), and
the rules between values (score bands that tile the scores, unique codes, points that never decrease,
exemption points within the points). `refusal_sentences` turns pydantic's errors into the sentences
`load_rubric` prints, each naming the section, item or band and the field.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, NoReturn

from django.db import models
from django.utils.text import slugify
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from config.validators import contains_nul
from rubric.models import POINTED_STATUSES, AnswerStatus, Item, Rubric, ScoreBand, Section

# The statuses a file gives points to; not_applicable is worth `exemption_points` instead, so files written
# before exemptions existed still load unchanged.
STATUSES = POINTED_STATUSES

# Texts stored in unbounded columns still have a length: the rubric is served to everyone
# (GET /api/v1/rubrics/), so a file must not turn into megabytes of text. Bounded columns give their own.
MAX_LONG_TEXT = 10_000  # descriptions, guidance, band meanings and each translated text
MAX_SOURCE_TEXT = 2_000  # a citation


def _column(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name)


# The error type of every rule declared here. Its sentence says where the location goes: {where} is the
# part of the file (the rubric, a section, an item, a band) and {field} the key inside it.
RUBRIC_ERROR = "rubric"


def _error(sentence: str) -> PydanticCustomError:
    return PydanticCustomError(RUBRIC_ERROR, "{sentence}", {"sentence": sentence})


def _refuse(problems: list[tuple[tuple[str | int, ...], str]], value: Any) -> NoReturn:
    """Report several problems of one list at once, each at its own location inside the list: pydantic
    merges a ValidationError raised in a validator into the outer one, with the outer location in front."""
    details = [InitErrorDetails(type=_error(sentence), loc=loc, input=value) for loc, sentence in problems]
    raise ValidationError.from_exception_data("rubric", details)


def _no_nul(text: str) -> str:
    if contains_nul(text):  # PostgreSQL cannot store it
        raise _error("{where}: {field} must not contain the NUL character")
    return text


def _slug(text: str) -> str:
    if not text or slugify(text) != text:
        raise _error(f"{{where}}: {{field}} {text!r} must be lowercase letters, digits and hyphens")
    return text


def _text(limit: int) -> Any:
    # Strict: a number or YAML's !!binary bytes where a text belongs is a mistake in the file, not a text.
    return StringConstraints(strict=True, max_length=limit)


def _decimal(model: type[models.Model], name: str) -> Any:
    column = _column(model, name)
    return Field(allow_inf_nan=False, max_digits=column.max_digits, decimal_places=column.decimal_places)


LongText = Annotated[str, _text(MAX_LONG_TEXT), AfterValidator(_no_nul)]
# language code -> field name -> translated text, e.g. {"es": {"title": "..."}}
Translations = dict[str, dict[str, LongText]]
Number = Annotated[Decimal, Field(allow_inf_nan=False)]


def _version(value: Any) -> str:
    """A text or a number (YAML reads `version: 2017` as one); stored as its text."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _error("{where}: {field} must be a text or a number")
    text = str(value)
    limit = _column(Rubric, "version").max_length
    if text.strip() == "":
        raise _error("{where}: {field} must not be empty")
    if len(text) > limit:
        raise _error(f"{{where}}: {{field}} must be at most {limit} characters")
    return _no_nul(text)


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemSchema(_Part):
    code: Annotated[str, _text(_column(Item, "code").max_length), AfterValidator(_slug)]
    title: Annotated[str, _text(_column(Item, "title").max_length), AfterValidator(_no_nul)]
    guidance: LongText | None = None
    translations: Translations = Field(default_factory=dict)
    # Most tests can be not applicable somewhere; a rubric names the few that never can.
    allows_not_applicable: StrictBool = True


class SectionSchema(_Part):
    key: Annotated[str, _text(_column(Section, "key").max_length), AfterValidator(_slug)]
    title: Annotated[str, _text(_column(Section, "title").max_length), AfterValidator(_no_nul)]
    translations: Translations = Field(default_factory=dict)
    items: list[ItemSchema] = Field(min_length=1)


class BandSchema(_Part):
    """The interval (lower, upper] of the scores; a missing bound is open-ended."""

    lower: Annotated[Decimal, _decimal(ScoreBand, "lower")] | None = None
    upper: Annotated[Decimal, _decimal(ScoreBand, "upper")] | None = None
    label: Annotated[str, _text(_column(ScoreBand, "label").max_length), AfterValidator(_no_nul)]
    meaning: LongText | None = None
    translations: Translations = Field(default_factory=dict)

    @model_validator(mode="after")
    def _bounds_in_order(self) -> BandSchema:
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise _error(f"{{where}}: lower bound {self.lower} must be below upper bound {self.upper}")
        return self


class RubricSchema(_Part):
    slug: Annotated[str, _text(_column(Rubric, "slug").max_length), AfterValidator(_slug)]
    version: Annotated[str, PlainValidator(_version)]
    title: Annotated[str, _text(_column(Rubric, "title").max_length), AfterValidator(_no_nul)]
    source: Annotated[str, _text(MAX_SOURCE_TEXT), AfterValidator(_no_nul)] | None = None
    description: LongText | None = None
    translations: Translations = Field(default_factory=dict)
    points: dict[str, Annotated[Number, Field(ge=0)]]
    # Declared after `points`: its rule reads the validated points.
    exemption_points: Annotated[Decimal, _decimal(Rubric, "exemption_points")] | None = None
    bands: list[BandSchema] = Field(min_length=1)
    sections: list[SectionSchema] = Field(min_length=1)

    @field_validator("points")
    @classmethod
    def _points_per_status(cls, points: dict[str, Decimal]) -> dict[str, Decimal]:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for status in points:
            if status == AnswerStatus.NOT_APPLICABLE:
                problems.append(
                    (
                        (),
                        "{where}: {field} must not name 'not_applicable': an approved exemption is worth "
                        "exemption_points (by default the top points)",
                    )
                )
            elif status not in STATUSES:
                known = ", ".join(STATUSES)
                problems.append(((), f"{{where}}: {{field}} names an unknown status {status!r} (known: {known})"))
        problems += [((), f"{{where}}: {{field}} is missing the status {s!r}") for s in STATUSES if s not in points]
        values = [points[status] for status in STATUSES if status in points]
        if not problems and values != sorted(values):
            problems.append(((), "{where}: {field} must not decrease from " + " to ".join(STATUSES)))
        if problems:
            _refuse(problems, points)
        return points

    @field_validator("exemption_points")
    @classmethod
    def _exemption_within_points(cls, number: Decimal | None, info: ValidationInfo) -> Decimal | None:
        """An exemption never scores below not done (the strict score stays at most the score) nor above a
        met criterion. Checked only once the points themselves are valid."""
        points = info.data.get("points")
        if number is None or points is None:
            return number
        low, high = min(points.values()), max(points.values())
        if not low <= number <= high:
            raise _error(
                f"{{where}}: {{field}} must be between the points for {STATUSES[0]} and the top points "
                f"({low} to {high}); it is {number}"
            )
        return number

    @field_validator("bands")
    @classmethod
    def _bands_cover_every_score(cls, bands: list[BandSchema]) -> list[BandSchema]:
        """Every score falls in exactly one band: the bands ascend without gaps or overlaps, open-ended at
        both ends."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        last = len(bands) - 1
        for index, band in enumerate(bands):
            if index == 0 and band.lower is not None:
                problems.append(
                    ((index, "lower"), "{where}: the first band must have no lower bound, or low scores fall in a gap")
                )
            if index > 0 and band.lower is None:
                problems.append(((index, "lower"), "{where}: only the first band may be open-ended below"))
            if index == last and band.upper is not None:
                problems.append(
                    ((index, "upper"), "{where}: the last band must have no upper bound, or high scores fall in a gap")
                )
            if index < last and band.upper is None:
                problems.append(((index, "upper"), "{where}: only the last band may be open-ended above"))
            previous = bands[index - 1].upper if index > 0 else None
            if band.lower is not None and previous is not None and band.lower < previous:
                problems.append(((index,), f"{{where}} overlaps the band before it ({band.lower} < {previous})"))
            elif band.lower is not None and previous is not None and band.lower > previous:
                problems.append(
                    ((index,), f"{{where}} leaves a gap after the band before it ({previous} to {band.lower})")
                )
        if problems:
            _refuse(problems, bands)
        return bands

    @field_validator("sections")
    @classmethod
    def _unique_keys_and_codes(cls, sections: list[SectionSchema]) -> list[SectionSchema]:
        """Answers, exports and the API name items by code and sections by key, within one rubric."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        section_of: dict[str, str] = {}  # item code -> the key of the section that has it first
        position_of: dict[str, int] = {}  # section key -> the position of the section that has it first
        for index, section in enumerate(sections):
            if section.key in position_of:
                twice = f"the section key {section.key!r} is used twice (sections {position_of[section.key]} and"
                problems.append(((index, "key"), f"{twice} {index + 1})"))
            position_of.setdefault(section.key, index + 1)
            for position, item in enumerate(section.items):
                if item.code in section_of:
                    twice = f"the item code {item.code!r} is used twice: in section {section_of[item.code]}"
                    problems.append(((index, "items", position, "code"), f"{twice} and again in section {section.key}"))
                section_of.setdefault(item.code, section.key)
        if problems:
            _refuse(problems, sections)
        return sections


# How pydantic's own error types read after "{where}: {field}"; the values in braces come from the error.
_PHRASES = {
    "string_type": "must be a text",
    "string_too_long": "must be at most {max_length:,} characters (it has {length:,})",
    "bool_type": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "finite_number": "must be a number",
    "greater_than_equal": "must be {ge} or more",
    "decimal_max_places": "must have at most {decimal_places} decimals",
    "decimal_whole_digits": "must have at most {whole_digits} digits before the decimal point",
    "decimal_max_digits": "must have at most {max_digits} digits",
}


def refusal_sentences(error: ValidationError, data: Any) -> list[str]:
    """Every problem pydantic found in `data`, as sentences that name where it is; `data` is the file as
    read, for the names (codes, keys, labels) of the parts."""
    sentences = (_sentence(details, data) for details in error.errors(include_url=False))
    return list(dict.fromkeys(sentences))  # one sentence per problem, in the file's order


def _sentence(details: Any, data: Any) -> str:
    where, path = _locate(tuple(details["loc"]), data)
    field = _field_name(path)
    kind, context = details["type"], details.get("ctx") or {}
    if kind == RUBRIC_ERROR:
        template = context["sentence"]
    elif path and path[0] == "translations" and not (len(path) == 3 and kind == "string_too_long"):
        template = "translations of {where} must map a language code to texts"
    elif kind == "missing":
        template = "{where} is missing the key '{field}'"
    elif kind in ("extra_forbidden", "invalid_key"):
        template = "{where} has an unknown key '{field}'"
    elif kind in ("too_short", "list_type"):
        template = "{where} must have a non-empty list of {field}"
    else:
        value = details.get("input")
        length = len(value) if isinstance(value, str) else 0
        phrase = (
            _PHRASES[kind].format(**context, length=length) if kind in _PHRASES else f"is refused: {details['msg']}"
        )
        template = ("{where}: {field} " if field else "{where} ") + phrase
    # One pass, so a name that happens to contain "{field}" stays as written.
    names = {"where": where, "field": field}
    return re.sub(r"\{(where|field)\}", lambda match: names[match.group(1)], template) + "."


def _locate(loc: tuple[Any, ...], data: Any) -> tuple[str, tuple[Any, ...]]:
    """The name of the part of the file at `loc` (as the author calls it: by key, code or label) and the
    rest of `loc`, the field inside that part."""
    if len(loc) >= 2 and loc[0] == "sections" and isinstance(loc[1], int):
        section = _member(data, "sections", loc[1])
        where = f"section {_name(section, 'key') or loc[1] + 1}"
        if len(loc) >= 4 and loc[2] == "items" and isinstance(loc[3], int):
            code = _name(_member(section, "items", loc[3]), "code")
            return (f"item {code}" if code else f"item {loc[3] + 1} of {where}"), loc[4:]
        return where, loc[2:]
    if len(loc) >= 2 and loc[0] == "bands" and isinstance(loc[1], int):
        label = _name(_member(data, "bands", loc[1]), "label") or "no label"
        return f"band {loc[1] + 1} ({label})", loc[2:]
    return "the rubric", loc


def _member(container: Any, key: str, index: int) -> Any:
    members = container.get(key) if isinstance(container, dict) else None
    return members[index] if isinstance(members, list) and index < len(members) else None


def _name(part: Any, key: str) -> str:
    value = part.get(key) if isinstance(part, dict) else None
    return value if isinstance(value, str) else ""


def _field_name(path: tuple[Any, ...]) -> str:
    if len(path) == 3 and path[0] == "translations":
        return f"the {path[1]} translation of {path[2]}"
    name = str(path[0]) if path else ""
    for part in path[1:]:
        name = f"a key of {name}" if part == "[key]" else f"{name} for {part!r}"
    return name
