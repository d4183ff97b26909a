"""The alias history the rules read: what each sync saw, refined by the exact changes MLflow's webhooks reported.

MLflow keeps no alias history. A sync only sees where the aliases point when it runs; a registry webhook says
exactly when an alias was set or deleted. Both are merged into one timeline of AliasSightings, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.mlflow.facts import AliasSighting
from integrations.mlflow.models import AliasEvent, MlflowConnection


@dataclass(frozen=True)
class AliasChange:
    """One alias set (version) or deleted (version None) at an exact time (ms since the epoch)."""

    at_ms: int
    model_name: str
    alias: str
    version: int | None


@dataclass(frozen=True)
class Polled:
    """What one sync saw, and when it started reading (its sighting is stamped when it finished)."""

    started_ms: int
    sighting: AliasSighting


def alias_changes(connection: MlflowConnection) -> list[AliasChange]:
    rows = AliasEvent.objects.filter(connection=connection).order_by("at", "pk")
    return [
        AliasChange(int(at.timestamp() * 1000), model, alias, version)
        for at, model, alias, version in rows.values_list("at", "model_name", "alias", "version")
    ]


def merge(polled: list[Polled], changes: list[AliasChange]) -> list[AliasSighting]:
    """One sighting per sync and per reported change, oldest first, each the full {model: {alias: version}} map.

    A sync replaces what it saw for the models it read, except an alias a webhook changed after the sync began
    reading: the sync may have read it before the change, so the change stands.
    """
    timeline: list[tuple[int, int, Polled | AliasChange]] = [(p.sighting.seen_ms, 0, p) for p in polled]
    timeline += [(c.at_ms, 1, c) for c in changes]
    timeline.sort(key=lambda entry: (entry[0], entry[1]))
    state: dict[str, dict[str, int]] = {}
    changed_at: dict[tuple[str, str], int] = {}
    merged: list[AliasSighting] = []
    for at_ms, _kind, entry in timeline:
        if isinstance(entry, AliasChange):
            aliases = state.setdefault(entry.model_name, {})
            if entry.version is None:
                aliases.pop(entry.alias, None)
            else:
                aliases[entry.alias] = entry.version
            changed_at[(entry.model_name, entry.alias)] = entry.at_ms
        else:
            for model, seen in entry.sighting.aliases.items():
                kept = {
                    alias: version
                    for alias, version in state.get(model, {}).items()
                    if changed_at.get((model, alias), -1) >= entry.started_ms
                }
                fresh = {
                    alias: int(version)
                    for alias, version in seen.items()
                    if changed_at.get((model, alias), -1) < entry.started_ms
                }
                state[model] = {**fresh, **kept}
        merged.append(AliasSighting(seen_ms=at_ms, aliases={m: dict(a) for m, a in state.items()}))
    return merged
