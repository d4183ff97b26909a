"""How every page, export and badge writes scores: 7 and 1.5 (1,5 in Spanish), never 7.0, 7.00 or 1E+1.

The one score formatter: `score` for people (the active language's separator), `plain` for machines (badges,
API previews), `signed_score` for changes.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.formats import get_format


def plain(value: Decimal | float | None) -> str:
    """A score in the machine's notation, as people write it: 7, 1.5 (never 7.0, 7.00 or 1E+1); "" for none."""
    if value is None:
        return ""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return f"{number.normalize():f}"


def decimal_separator() -> str:
    """The current language's decimal separator, for pages that format many scores at once."""
    return str(get_format("DECIMAL_SEPARATOR"))


def score(value: Any, separator: str | None = None) -> str:
    """A score in the current language's notation; empty for no value.

    Dashboards print hundreds of numbers per page; this is much cheaper than the floatformat filter,
    and cheaper still when the caller looks the separator up once for the page.
    """
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return plain(number).replace(".", separator if separator is not None else decimal_separator())


def signed_score(value: Any) -> str:
    """A change in score with its sign: +1.5, -2, 0."""
    text = score(value)
    return f"+{text}" if text and value > 0 else text
