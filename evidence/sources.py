"""Every evidence source's findings in one shape, so pages and the API list them side by side.

A source (integrations/<name>/) registers a function that returns its current findings for a project as
`EvidenceFinding`s; `project_findings` asks every registered source. Sources register in their AppConfig's
ready(), explicitly, so a source that is not installed simply contributes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

# Each source's name in API payloads and as people read it (product names: not translated).
SOURCE_LABELS = {
    "mlflow": "MLflow",
    "junit": "JUnit",
    "great_expectations": "Great Expectations",
    "evidently": "Evidently",
    "prometheus_rules": "Prometheus rules",
}
SOURCES = tuple(SOURCE_LABELS)


class FindingResult(models.TextChoices):
    """What a source's check said about an item, the same words for every source."""

    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    UNKNOWN = "unknown", _("Unknown")


@dataclass(frozen=True)
class EvidenceFinding:
    item: str
    source: str  # one of SOURCES
    result: str  # a FindingResult value
    suggested_status: str  # "manual", "automated" or "" (nothing to suggest)
    reason: str
    observed_at: datetime
    links: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    # Source-specific identity of what was observed (the MLflow sync, the CI report), for the API and for
    # telling whether an acceptance copied this very finding.
    origin: dict[str, Any] = field(default_factory=dict)

    @property
    def item_code(self) -> str:
        return self.item

    @property
    def localized_reason(self) -> str:
        return self.reason

    @property
    def key(self) -> tuple[str, Any]:
        """What was observed: the source and its report (or sync); equal keys mean the same evidence."""
        return snapshot_key(self.as_json())

    def snapshot(self) -> dict[str, Any]:
        return self.as_json()

    def as_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "source": self.source,
            "result": self.result,
            "suggested_status": self.suggested_status or None,
            "reason": self.reason,
            "links": list(self.links),
            "observed_at": self.observed_at.isoformat(),
            "facts": self.facts,
            **self.origin,
        }


def snapshot_key(snapshot: dict[str, Any]) -> tuple[str, Any]:
    """The key of an accepted finding's frozen copy; MLflow copies made before sources existed have none."""
    source = snapshot.get("source") or "mlflow"
    return source, snapshot.get("sync") if source == "mlflow" else snapshot.get("report")


Provider = Callable[[Any], list[EvidenceFinding]]
_PROVIDERS: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    _PROVIDERS[name] = provider


def project_findings(project: Any) -> list[EvidenceFinding]:
    """Every source's current findings for the project, by item then source."""
    found = [finding for provider in _PROVIDERS.values() for finding in provider(project)]
    return sorted(found, key=lambda f: (f.item, SOURCES.index(f.source) if f.source in SOURCES else 99))


def find(project: Any, item: str, source: str) -> EvidenceFinding | None:
    """The current finding of one source for one item."""
    return next((f for f in project_findings(project) if f.item == item and f.source == source), None)
