"""Template filters and tags for the managers' pages."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from audits import formatting
from audits.dashboards.staticfiles import PLOTLY_STATIC_PATH, plotly_locale_path

register = template.Library()
register.filter("score", formatting.score)
register.filter("signed_score", formatting.signed_score)


@register.simple_tag
def plotly_scripts() -> SafeString:
    """plotly.js, then its locale for the page's language if it has one: deferred scripts run in order."""
    paths = [PLOTLY_STATIC_PATH]
    locale = plotly_locale_path(get_language())
    if locale:
        paths.append(locale)
    return format_html_join("\n", '<script src="{}" defer></script>', ((static(path),) for path in paths))
