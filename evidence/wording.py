"""Reasons that can be retold in every interface language (used by every evidence source)."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext


class Wording(str):
    """A reason in the active language that remembers its message and values.

    A worker has no reader, so its language is arbitrary; a sync stores each reason in every interface
    language by re-translating the message (in_language), without running the rule again.
    """

    message: str
    values: dict[str, Any]
    parts: tuple[Wording, ...] = ()

    def format(self, *args: Any, **values: Any) -> Wording:
        if args:  # rules name every value; a positional one could not be re-translated
            raise TypeError("Reasons take named values only.")
        return _wording(self.message, values)

    def in_language(self, language: str) -> str:
        if self.parts:
            return " ".join(part.in_language(language) for part in self.parts)
        with translation.override(language):
            text = gettext(self.message)
        return text.format(**self.values) if self.values else text

    def then(self, other: Wording | str) -> Wording:
        """This reason followed by another sentence, both retold in each language."""
        if not other:
            return self
        second = other if isinstance(other, Wording) else literal(str(other))
        joined = Wording(f"{self} {second}")
        joined.message, joined.values = self.message, self.values
        joined.parts = (*(self.parts or (self,)), *(second.parts or (second,)))
        return joined


def _wording(message: str, values: dict[str, Any]) -> Wording:
    text = gettext(message)
    wording = Wording(text.format(**values) if values else text)
    wording.message, wording.values = message, values
    return wording


def literal(text: str) -> Wording:
    """Text that is the same in every language (a name, a number)."""
    wording = Wording(text)
    wording.message, wording.values = text, {}
    return wording


def _(message: str) -> Wording:
    """gettext for reasons (makemessages finds these calls by the name `_`)."""
    return _wording(message, {})
