"""One production-mode instance for the outage drills of this package (tests/faults/_instance.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults._instance import Instance, running_instance


@pytest.fixture(scope="package")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """Started once: both outage modules use it, and each drill restores what it cut."""
    with running_instance(tmp_path_factory.mktemp("faults")) as running:
        yield running
