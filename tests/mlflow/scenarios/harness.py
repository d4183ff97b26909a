"""Measure mlaudit's MLflow suggestions against the labelled corpus: build, connect, sync, compare.

A *suggestion* is a finding whose result is `pass`; its level is its `suggested_status`. It is *supported*
when the scenario labels that item pass at that level or higher (an automated suggestion on an item the
data only shows done by hand is not supported). Precision = supported suggestions / suggestions; recall =
items labelled pass that got a supported suggestion / items labelled pass. Every automated suggestion must
also say, in its reason, which recurrence justifies it (a count of versions or runs, a span of days, a
pipeline): `cites_recurrence`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.mlflow.scenarios._kit import AUTOMATED, ITEM_CODES, MANUAL, Kit, Label, Scenario

PRECISION_TARGET = 0.95
RECALL_TARGET = 0.80

# Outcomes of one item.
SUPPORTED = "supported"  # a suggestion the labels back
TOO_HIGH = "too high"  # labelled pass, but suggested at a higher level than the data shows
UNSUPPORTED = "unsupported"  # a suggestion on an item labelled none
MISSED = "missed"  # labelled pass, no suggestion
QUIET = "quiet"  # labelled none, no suggestion

# A recurrence is cited as "K of (the last) N …", a span ("over 63 days", "across 6 weeks"), a cadence
# ("every 7 days", "weekly") or the system that launched the runs (pipeline, job, scheduler, CI). A bare
# count of what mlaudit looked at ("the 8 most recent runs", "0 days old") is not a recurrence.
_RECURRENCE = (
    re.compile(r"\b\d+\s+of\s+(?:the\s+)?(?:last\s+)?\d+\b", re.I),
    re.compile(r"\b(?:over|spanning|across|within|in)\s+(?:the\s+last\s+)?\d+\s+(?:days?|weeks?|months?)\b", re.I),
    re.compile(r"\b(?:every\s+\d+\s+(?:days?|weeks?)|daily|weekly|nightly|monthly)\b", re.I),
    re.compile(r"\b(?:pipelines?|jobs?|scheduled|scheduler|ci)\b", re.I),
)


def cites_recurrence(reason: str) -> bool:
    return any(pattern.search(reason) for pattern in _RECURRENCE)


@dataclass(frozen=True)
class Seen:
    """What mlaudit said about one item (plain data, so it outlives the database transaction)."""

    item: str
    result: str
    suggested: str
    reason: str
    links: tuple[str, ...] = ()

    @property
    def suggests(self) -> bool:
        return self.result == "pass"

    @property
    def level(self) -> str:
        return self.suggested or MANUAL


@dataclass(frozen=True)
class ItemOutcome:
    item: str
    label: Label
    seen: Seen | None
    outcome: str

    @property
    def automated_without_recurrence(self) -> bool:
        return bool(self.seen and self.seen.suggests and self.seen.level == AUTOMATED) and not cites_recurrence(
            self.seen.reason if self.seen else ""
        )


def judge(label: Label, seen: Seen | None) -> str:
    if seen is None or not seen.suggests:
        return MISSED if label.passes else QUIET
    if not label.passes:
        return UNSUPPORTED
    return SUPPORTED if label.supports(seen.level) else TOO_HIGH


@dataclass
class ScenarioScore:
    scenario: Scenario
    items: list[ItemOutcome] = field(default_factory=list)

    def count(self, *outcomes: str) -> int:
        return sum(1 for i in self.items if i.outcome in outcomes)

    @property
    def suggestions(self) -> int:
        return self.count(SUPPORTED, TOO_HIGH, UNSUPPORTED)

    @property
    def supported(self) -> int:
        return self.count(SUPPORTED)

    @property
    def labelled_pass(self) -> int:
        return self.count(SUPPORTED, TOO_HIGH, MISSED)

    @property
    def automated_without_recurrence(self) -> list[ItemOutcome]:
        return [i for i in self.items if i.automated_without_recurrence]


def score(scenario: Scenario, seen: dict[str, Seen]) -> ScenarioScore:
    result = ScenarioScore(scenario)
    for code in ITEM_CODES:
        label = scenario.labels[code]
        found = seen.get(code)
        result.items.append(ItemOutcome(code, label, found, judge(label, found)))
    return result


@dataclass(frozen=True)
class Totals:
    suggestions: int
    supported: int
    labelled_pass: int
    recalled: int
    automated_without_recurrence: int

    @property
    def precision(self) -> float:
        return self.supported / self.suggestions if self.suggestions else 1.0

    @property
    def recall(self) -> float:
        return self.recalled / self.labelled_pass if self.labelled_pass else 1.0

    @property
    def met(self) -> bool:
        return (
            self.precision >= PRECISION_TARGET
            and self.recall >= RECALL_TARGET
            and self.automated_without_recurrence == 0
        )


def totals(scores: Iterable[ScenarioScore]) -> Totals:
    scores = list(scores)
    return Totals(
        suggestions=sum(s.suggestions for s in scores),
        supported=sum(s.supported for s in scores),
        labelled_pass=sum(s.labelled_pass for s in scores),
        recalled=sum(s.supported for s in scores),
        automated_without_recurrence=sum(len(s.automated_without_recurrence) for s in scores),
    )


def format_score(s: ScenarioScore) -> str:
    lines = [f"--- {s.scenario.name}: {s.scenario.title}", f"{'item':<14}{'label':<11}{'suggested':<11}outcome"]
    for i in s.items:
        suggested = i.seen.level if i.seen and i.seen.suggests else "-"
        if i.outcome == QUIET:
            continue  # labelled none and rightly silent: the table shows only what matters
        flag = "  (automated, no recurrence cited)" if i.automated_without_recurrence else ""
        reason = f"  | {i.seen.reason[:110]}" if i.seen and i.seen.suggests else ""
        lines.append(f"{i.item:<14}{i.label.expected:<11}{suggested:<11}{i.outcome}{flag}{reason}")
    quiet = s.count(QUIET)
    lines.append(
        f"{quiet} items rightly silent; suggestions {s.suggestions}, supported {s.supported}, "
        f"labelled pass {s.labelled_pass}"
    )
    return "\n".join(lines)


def format_totals(t: Totals) -> str:
    return (
        f"precision {t.supported}/{t.suggestions} = {t.precision:.0%} (target >= {PRECISION_TARGET:.0%})\n"
        f"recall    {t.recalled}/{t.labelled_pass} = {t.recall:.0%} (target >= {RECALL_TARGET:.0%})\n"
        f"automated suggestions not citing a recurrence: {t.automated_without_recurrence} (target 0)"
    )


# Building and syncing (needs Django set up and a database) ------------------------------------------


def _sync(connection: Any) -> None:
    """One sync, as the scheduler queues it: a connection's default is a nightly schedule, and the level of a
    suggestion must come from the evidence, not from how mlaudit was asked to look."""
    from integrations.mlflow import services
    from integrations.mlflow.models import SyncState, SyncTrigger

    sync = services.sync_request(actor=None, connection=connection, trigger=SyncTrigger.SCHEDULE)
    services.sync_execute(sync_id=sync.pk, final_attempt=True)
    sync.refresh_from_db()
    if sync.state != SyncState.SUCCEEDED:
        raise RuntimeError(f"sync of {connection.name} failed: {sync.error_kind}: {sync.error}")


def _record_alias_event(connection: Any, model: str, alias: str, version: int | None, at_ms: int) -> None:
    """What mlaudit's webhook endpoint records for one registry alias event (integrations.mlflow.webhooks), at
    the time the scenario says it happened: the history is written in seconds, but tells of weeks."""
    import uuid
    from datetime import UTC, datetime

    from integrations.mlflow.models import AliasEvent, WebhookDelivery

    at = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    event = "model_version_alias.created" if version is not None else "model_version_alias.deleted"
    data = {"name": model, "alias": alias, **({"version": str(version)} if version is not None else {})}
    delivery = WebhookDelivery.objects.create(
        connection=connection,
        delivery_id=uuid.uuid4().hex,
        event=event,
        event_at=at,
        payload={
            "entity": event.split(".")[0],
            "action": event.split(".")[1],
            "timestamp": at.isoformat(),
            "data": data,
        },
    )
    AliasEvent.objects.create(
        connection=connection, delivery=delivery, model_name=model, alias=alias, version=version, at=at
    )


def observe(scenario: Scenario, *, tracking_uri: str, actor: Any, project: Any) -> dict[str, Seen]:
    """Connect `project` to the scenario's experiments and models, build the history on `tracking_uri`
    (syncing at each checkpoint, as a polling mlaudit would between events), sync once more, and return
    the findings."""
    import mlflow

    from integrations.mlflow import services
    from integrations.mlflow.models import Finding

    connection = services.connection_create(
        actor=actor,
        project=project,
        name=scenario.name,
        tracking_uri=tracking_uri,
        experiments=list(scenario.experiments),
        registered_models=list(scenario.registered_models),
        serving_alias=scenario.serving_alias,
    )
    saved = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    kit = Kit(tracking_uri, checkpoint=lambda: _sync(connection))
    if scenario.webhooks:
        kit.on_alias = lambda model, alias, version, at_ms: _record_alias_event(
            connection, model, alias, version, at_ms
        )
    try:
        scenario.build(kit)
    finally:
        mlflow.sklearn.autolog(disable=True)
        mlflow.set_tracking_uri(saved[0])
        mlflow.set_registry_uri(saved[1])
    _sync(connection)
    return {
        f.item_code: Seen(f.item_code, f.result, f.suggested_status, f.reason, tuple(f.links))
        for f in Finding.objects.filter(connection=connection)
    }


def observe_corpus(scenarios: Iterable[Scenario], *, tracking_uri: str) -> dict[str, dict[str, Seen]]:
    """Every scenario in its own project of one team, with one manager (creates them)."""
    from django.contrib.auth import get_user_model

    from audits.models import Membership, Project, Role, Team

    team, _ = Team.objects.get_or_create(slug="evidence-corpus", defaults={"name": "Evidence corpus"})
    actor, _ = get_user_model().objects.get_or_create(username="corpus-manager")
    Membership.objects.get_or_create(team=team, user=actor, defaults={"role": Role.MANAGER})
    seen = {}
    for scenario in scenarios:
        project, _ = Project.objects.get_or_create(
            team=team, slug=f"corpus-{scenario.name}", defaults={"name": scenario.title[:100]}
        )
        project.mlflow_connections.all().delete()
        seen[scenario.name] = observe(scenario, tracking_uri=tracking_uri, actor=actor, project=project)
    return seen
