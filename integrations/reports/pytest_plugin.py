"""A pytest plugin: `@pytest.mark.ml_test_score("data-3")` on a test writes the item into the JUnit report
(as the `ml_test_score` property), so the report names the rubric items its tests back.

Installed with mlaudit (entry point `pytest11`); in a project that only downloads the client, copy this file
next to conftest.py and add `pytest_plugins = ["pytest_plugin"]`.
"""

from __future__ import annotations

from typing import Any

import pytest

MARKER = "ml_test_score"


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", f"{MARKER}(*items): the ML Test Score items (e.g. 'data-3') this test backs")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: Any) -> None:
    for marker in item.iter_markers(MARKER):
        for code in marker.args:
            item.user_properties.append((MARKER, str(code)))
