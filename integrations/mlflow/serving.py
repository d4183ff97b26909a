"""Which model version a connection's serving alias points at: when a finding was synced, and now.

An accepted finding records the version it was about (finding_accept); audits.staleness compares it with
the version serving now. "Now" is what the latest successful sync saw, refined by the alias changes the
registry webhooks reported since that sync began (alias_events.merge), so a webhook makes an answer stale
before the sync it queues has run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from integrations.mlflow.alias_events import AliasChange, Polled, merge
from integrations.mlflow.facts import AliasSighting
from integrations.mlflow.models import AliasEvent, MlflowConnection, SyncRun, SyncState

Aliases = Mapping[str, Mapping[str, int]]  # {registered model: {alias: version}}


@dataclass(frozen=True)
class Serving:
    model_name: str
    alias: str
    version: int | None  # None: the alias points nowhere (deleted, or never set)


def serving_in(aliases: Aliases, *, models: Iterable[str], alias: str) -> Serving | None:
    """The serving version in one alias map, as the rules pick it (facts.Snapshot.serving): the first of the
    connection's registered models whose alias is set; None when the connection reads no registered model."""
    names = [str(name) for name in models]
    for name in names:
        version = (aliases.get(name) or {}).get(alias)
        if version is not None:
            return Serving(name, alias, int(version))
    return Serving(names[0], alias, None) if names else None


def version_for(aliases: Aliases, *, model_name: str, alias: str) -> int | None:
    version = (aliases.get(model_name) or {}).get(alias)
    return int(version) if version is not None else None


def _ms(at: object) -> int:
    return int(at.timestamp() * 1000) if at is not None else 0  # type: ignore[attr-defined]


def current_aliases(connection_ids: Iterable[int]) -> dict[int, dict[str, dict[str, int]]]:
    """connection id → the alias map now, for many connections in two queries."""
    ids = sorted(set(connection_ids))
    if not ids:
        return {}
    latest = SyncRun.objects.filter(connection_id=OuterRef("pk"), state=SyncState.SUCCEEDED).order_by(
        "-finished_at", "-pk"
    )
    rows = MlflowConnection.objects.filter(pk__in=ids).values_list(
        "pk",
        Subquery(latest.values("started_at")[:1]),
        Subquery(latest.values("finished_at")[:1]),
        Subquery(latest.values("aliases_seen")[:1]),
    )
    polled: dict[int, Polled] = {}
    for pk, started, finished, seen in rows:
        if finished is not None:
            aliases = {m: {a: int(v) for a, v in (al or {}).items()} for m, al in (seen or {}).items()}
            polled[pk] = Polled(_ms(started or finished), AliasSighting(seen_ms=_ms(finished), aliases=aliases))
    changes: dict[int, list[AliasChange]] = {}
    events = AliasEvent.objects.filter(connection_id__in=ids).order_by("at", "pk")
    for connection_id, at, model, alias, version in events.values_list(
        "connection_id", "at", "model_name", "alias", "version"
    ):
        changes.setdefault(connection_id, []).append(AliasChange(_ms(at), model, alias, version))
    result: dict[int, dict[str, dict[str, int]]] = {}
    for pk in ids:
        sync = polled.get(pk)
        timeline = merge([sync] if sync else [], changes.get(pk, []))
        result[pk] = {m: dict(a) for m, a in timeline[-1].aliases.items()} if timeline else {}
    return result


def sync_aliases(sync_ids: Iterable[int]) -> dict[int, dict[str, dict[str, int]]]:
    """sync id → the alias map that sync saw, in one query."""
    ids = sorted(set(sync_ids))
    if not ids:
        return {}
    return {pk: dict(seen or {}) for pk, seen in SyncRun.objects.filter(pk__in=ids).values_list("pk", "aliases_seen")}
