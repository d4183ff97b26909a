"""Display helpers for audit pages: translated labels for stored codes."""

from __future__ import annotations

from typing import Any

from django import template

from audits import formatting
from audits.forms import ROLE_LABELS
from rubric.models import status_label as rubric_status_label

register = template.Library()


@register.filter
def status_label(status: str | None) -> str:
    return rubric_status_label(status)


@register.filter
def status_short(status: str | None) -> str:
    return rubric_status_label(status, short=True)


@register.filter
def role_label(role: str | None) -> str:
    return str(ROLE_LABELS.get(role, role or "—"))  # type: ignore[call-overload]


@register.filter
def localized(row: Any, field: str) -> Any:
    """The row's field in the active language (rubric rows carry their own translations)."""
    return row.localized(field)


@register.filter
def band_name(label: str | None, bands: dict[str, str] | None) -> str:
    """A stored band label in the active language, when the label is known to the rubric data."""
    if not label:
        return ""
    return (bands or {}).get(label, label)


@register.filter
def score(value: Any) -> str:
    """A score as every page shows it (audits.formatting.score)."""
    return formatting.score(value)


@register.filter
def evidence_diff(change: Any) -> dict[str, list[str]]:
    """The links an answer change added and removed, in their order."""
    before, after = list(change.evidence_before or []), list(change.evidence_after or [])
    return {
        "added": [link for link in after if link not in before],
        "removed": [link for link in before if link not in after],
    }
