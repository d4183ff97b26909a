"""JSON request bodies that cannot crash the parser.

Python's json module recurses once per nested bracket: a 2 KB body of 1,000 `[` raised RecursionError,
which surfaced as a 500. Here it is a parse error like any other malformed body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONTooDeep(ValueError):
    """The body nests arrays or objects deeper than the parser can follow."""


def too_deep_message() -> str:
    return _("The JSON body is nested too deeply.")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_json(raw: bytes | str) -> Any:
    """json.loads for request bodies: NaN and Infinity refused, too deep nesting a ValueError."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise JSONTooDeep(too_deep_message()) from None


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep_message()) from None
