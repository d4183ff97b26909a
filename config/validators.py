"""Rules on text every service applies to what people type or send, whatever the interface.

In config, not in an app: the rubric loader applies them too, and rubric/ imports no other app."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

NUL = "\x00"


def contains_nul(value: Any) -> bool:
    """Whether a text, or any text inside lists and objects, holds a NUL character.

    PostgreSQL cannot store NUL in text or JSON columns: the save would fail with a database error."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


def nul_message() -> str:
    return _("Text may not contain the NUL character.")


def reject_nul(value: Any, field: str | None = None) -> None:
    """Raise a ValidationError (for `field` when given) if `value` holds a NUL character."""
    if contains_nul(value):
        raise ValidationError({field: [nul_message()]} if field else nul_message())
