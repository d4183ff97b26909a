"""Serve the plotly.js bundle that ships inside the installed `plotly` package as a static file.

Self-hosted installs often have no internet access, so the charts never load plotly.js from a CDN.
Exposing only that one file (not the package's datasets) keeps collectstatic small, and the served
bundle always matches the Python package that built the figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, overload

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_STATIC_PATH = "vendor/plotly/plotly.min.js"
_BUNDLE_DIR = Path(plotly.__file__).resolve().parent / "package_data"
_BUNDLE_NAME = "plotly.min.js"


class _PrefixedStorage(FileSystemStorage):
    # collectstatic copies to storage.prefix + path, like STATICFILES_DIRS entries with a prefix.
    prefix = "vendor/plotly"


class PlotlyBundleFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = _PrefixedStorage(location=str(_BUNDLE_DIR))

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    @overload
    def find(self, path: str, find_all: Literal[False] = False) -> str | None: ...

    @overload
    def find(self, path: str, find_all: Literal[True]) -> list[str]: ...

    def find(self, path: str, find_all: bool = False) -> str | list[str] | None:
        match = str(_BUNDLE_DIR / _BUNDLE_NAME) if path == PLOTLY_STATIC_PATH else None
        if find_all:
            return [match] if match else []
        return match

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        yield _BUNDLE_NAME, self.storage
