"""Template filters for the managers' pages."""

from __future__ import annotations

from django import template

from audits.dashboards import formatting

register = template.Library()
register.filter("score", formatting.score)
register.filter("signed_score", formatting.signed_score)
