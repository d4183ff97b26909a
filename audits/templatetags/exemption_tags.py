"""Template helpers for exemptions: the label of a state, and the flags of a project's exemptions."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from audits.exemptions.selectors import project_exemption_flags
from audits.models.exemptions import EXEMPTION_STATE_LABELS, EXPIRING_SOON_DAYS

register = template.Library()


@register.filter
def exemption_label(state: str) -> str:
    """The translated label of an exemption state (pending, approved, rejected, expired); "—" for none."""
    return str(EXEMPTION_STATE_LABELS.get(state, state)) if state else "—"


@register.inclusion_tag("audits/_exemptions_flag_list.html")
def exemptions_flag(project: Any) -> dict[str, Any]:
    """The project's standing exemptions that expired or expire within EXPIRING_SOON_DAYS (one query)."""
    flags = project_exemption_flags(project=project, today=timezone.localdate())
    return {"flags": flags, "soon_days": EXPIRING_SOON_DAYS, "project": project}
