"""{% load staleness_tags %}{% live_score project as live %}: the project's live score (audits.staleness)."""

from __future__ import annotations

from django import template

from audits.models import Project
from audits.staleness.selectors import LiveScore, live_score

register = template.Library()


@register.simple_tag(name="live_score")
def live_score_tag(project: Project) -> LiveScore | None:
    return live_score(project)
