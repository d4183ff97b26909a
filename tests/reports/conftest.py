"""Reports written by the real tools, and the API fixtures (token clients per role, an isolated throttle)."""

from tests.api.conftest import (  # noqa: F401
    api_client,
    client_as,
    fresh_throttle_counts,
    token_client,
)
from tests.reports.tools import junit_report, tool_reports  # noqa: F401
