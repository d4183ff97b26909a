"""The plotly.js files the chart pages load, vendored under static/vendor/plotly/ (see its README.md).

mlaudit draws only bar, scatter and heatmap traces, so it ships plotly.js's *cartesian* partial bundle
(1.5 MB, 0.5 MB compressed) rather than the full 4.8 MB bundle inside the `plotly` Python package, and
never a CDN: self-hosted installs often have no internet access. The bundle's version is the plotly.js
version of the installed `plotly` package (a test checks it), so the figures it builds always draw.
"""

from __future__ import annotations

PLOTLY_JS_VERSION = "2.35.2"
PLOTLY_STATIC_PATH = "vendor/plotly/plotly-cartesian.min.js"
# Month and day names, decimal separators and the mode bar's wording, per page language (English is built in).
PLOTLY_LOCALE_PATHS = {"es": "vendor/plotly/plotly-locale-es.js"}


def plotly_locale_path(language: str | None) -> str | None:
    """The static path of the locale file for `language` ("es", "es-ar" ...), or None for English."""
    if not language:
        return None
    return PLOTLY_LOCALE_PATHS.get(language) or PLOTLY_LOCALE_PATHS.get(language.split("-")[0])
