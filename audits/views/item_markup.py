"""The questionnaire's items as HTML: the item template rendered once per page, then filled item by item.

A questionnaire shows every item of the rubric (28) in the same markup, and rendering `_item.html` once
per item was most of the page's time. So the template is rendered once per page with a placeholder in
each slot that differs between items (`{{ slot.name }}`), cut at the placeholders, and each item is the
join of the pieces with its own values, escaped here. What only some items show (the carried-over tag,
the guidance, a saved answer's notes…) are the small fragments of `_item_parts.html`, rendered once per
page the same way. Item values are never scanned for placeholders, so typed text cannot fill a slot.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

SLOT = re.compile("\x1e(\\w+)\x1f")
PART = re.compile(r"<!--part:(\w+)-->")


class Slots(dict[str, SafeString]):
    """`{{ slot.anything }}` in a template renders as the placeholder of `anything`."""

    def __missing__(self, name: str) -> SafeString:
        return SafeString(f"\x1e{name}\x1f")


class Filler:
    """Rendered markup cut at its placeholders; `fill(values)` puts the values in, in one pass."""

    def __init__(self, html: str) -> None:
        pieces = SLOT.split(html)
        self.texts, self.names = pieces[0::2], pieces[1::2]

    def fill(self, values: Mapping[str, str]) -> SafeString:
        out = [self.texts[0]]
        for name, text in zip(self.names, self.texts[1:], strict=True):
            out.append(values[name])
            out.append(text)
        return mark_safe("".join(out))  # the markup is the template's; every value is escaped


def fillers(template: str, context: dict[str, Any], request: HttpRequest) -> tuple[Filler, dict[str, Filler]]:
    """The item template and its parts, rendered once with placeholders in every slot."""
    context = {**context, "slot": Slots()}
    item = Filler(render_to_string(template, context, request))
    pieces = PART.split(render_to_string("audits/_item_parts.html", context, request))
    parts = {name: Filler(html.strip()) for name, html in zip(pieces[1::2], pieces[2::2], strict=True)}
    return item, parts


def text(value: Any) -> str:
    """Escaped like Django's escape(), without its check for lazy arguments (called ~30 times an item)."""
    return html.escape(str(value))


def lines(value: str) -> str:
    return linebreaksbr(value, autoescape=True)  # type: ignore[no-any-return]
