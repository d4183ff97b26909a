"""One sync: read everything from MLflow first, then write it in a single transaction.

Reading first means a server that dies mid-sync leaves nothing half-written; keying rows by MLflow's
own ids (run id, model name + version) means a sync that runs twice writes the same rows once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from evidence.sources import FindingResult
from integrations.mlflow.alias_events import Polled, alias_changes, merge
from integrations.mlflow.client import (
    ARTIFACT_READ_LIMIT,
    ArtifactTooLarge,
    ArtifactUnavailable,
    MlflowError,
    MlflowNotFound,
    MlflowReader,
    to_float,
)
from integrations.mlflow.facts import PARENT_TAG, AliasSighting, DatasetFact, RunFact, Snapshot, VersionFact
from integrations.mlflow.models import (
    Finding,
    MlflowConnection,
    SyncedModelVersion,
    SyncedRun,
    SyncRun,
    SyncState,
)
from integrations.mlflow.rulebook import Verdict, Wording
from integrations.mlflow.ruleset import evaluate

log = logging.getLogger(__name__)
WRITE_BATCH = 1000
TOO_LARGE = "too large to read"
MLMODEL_READ_LIMIT = ARTIFACT_READ_LIMIT


@dataclass
class Fetched:
    runs: list[RunFact]
    versions: list[VersionFact]
    aliases: dict[str, dict[str, int]]
    histories_checked: list[str] = field(default_factory=list)
    bad_histories: dict[str, list[str]] = field(default_factory=dict)
    experiment_names: dict[str, str] = field(default_factory=dict)


def json_safe(value: Any) -> Any:
    """JSON columns refuse NaN and infinities (PostgreSQL); keep them readable as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return value


def run_fact(raw: dict[str, Any]) -> RunFact:
    info, data = raw.get("info", {}), raw.get("data", {})
    tags = {t["key"]: t.get("value", "") for t in data.get("tags", [])}
    datasets = []
    for entry in raw.get("inputs", {}).get("dataset_inputs", []) or []:
        ds = entry.get("dataset", {})
        context = next((t.get("value", "") for t in entry.get("tags", []) if t.get("key") == "mlflow.data.context"), "")
        datasets.append(
            DatasetFact(
                name=ds.get("name", ""),
                digest=ds.get("digest", ""),
                context=context,
                schema=ds.get("schema", "") or "",
                profile=ds.get("profile", "") or "",
                source_type=ds.get("source_type", "") or "",
            )
        )
    # MLflow 3: the logged models a run produced (outputs) and used (inputs, e.g. evaluate(model_id=...)).
    outputs = (raw.get("outputs") or {}).get("model_outputs") or []
    model_inputs = (raw.get("inputs") or {}).get("model_inputs") or []
    return RunFact(
        run_id=info.get("run_id") or info.get("run_uuid", ""),
        experiment_id=str(info.get("experiment_id", "")),
        name=info.get("run_name", "") or tags.get("mlflow.runName", ""),
        status=info.get("status", ""),
        start_time=info.get("start_time"),
        end_time=info.get("end_time"),
        parent_run_id=tags.get(PARENT_TAG, ""),
        params={p["key"]: p.get("value", "") for p in data.get("params", [])},
        metrics={m["key"]: to_float(m.get("value", "NaN")) for m in data.get("metrics", [])},
        tags=tags,
        datasets=tuple(datasets),
        model_outputs=tuple(str(m.get("model_id", "")) for m in outputs if m.get("model_id")),
        model_inputs=tuple(str(m.get("model_id", "")) for m in model_inputs if m.get("model_id")),
    )


def _serving_number(versions: list[dict], aliases: dict[str, int], alias: str) -> int | None:
    if alias in aliases:
        return aliases[alias]
    production = [int(v["version"]) for v in versions if str(v.get("current_stage", "")).lower() == "production"]
    return max(production) if production else None


def fetch(
    client: MlflowReader,
    connection: MlflowConnection,
    history: list[AliasSighting],
    *,
    page_size: int,
    recent_runs: int,
) -> Fetched:
    experiments = [client.get_experiment(str(x)) for x in connection.experiments]
    experiment_ids = [str(x["experiment_id"]) for x in experiments]
    runs = (
        [run_fact(raw) for page in client.iter_run_pages(experiment_ids, page_size=page_size) for raw in page]
        if experiment_ids
        else []
    )
    known = {run.run_id for run in runs}
    versions: list[VersionFact] = []
    all_aliases: dict[str, dict[str, int]] = {}
    for name in connection.registered_models:
        registered = client.get_registered_model(str(name))
        aliases = {a["alias"]: int(a["version"]) for a in registered.get("aliases", [])}
        all_aliases[str(name)] = aliases
        raw_versions = client.search_model_versions(str(name))
        serving = _serving_number(raw_versions, aliases, connection.serving_alias)
        # Versions whose artifacts matter: the serving one, the ones that served before, the "previous" alias.
        probe = {serving} | {s.aliases.get(str(name), {}).get(connection.serving_alias) for s in history}
        probe |= {v for a, v in aliases.items() if a != connection.serving_alias}
        for raw in raw_versions:
            number = int(raw["version"])
            mlmodel, present = None, None
            if number in probe:
                mlmodel, present = _read_model_files(client, str(name), number, with_mlmodel=number == serving)
                if raw.get("run_id") and raw["run_id"] not in known:
                    try:
                        runs.append(run_fact(client.get_run(raw["run_id"])))
                        known.add(raw["run_id"])
                    except MlflowNotFound:
                        pass
            versions.append(
                VersionFact(
                    model_name=str(name),
                    version=number,
                    run_id=raw.get("run_id", "") or "",
                    created_ms=raw.get("creation_timestamp"),
                    tags={t["key"]: t.get("value", "") for t in raw.get("tags", [])},
                    aliases=tuple(sorted(a for a, v in aliases.items() if v == number)),
                    current_stage=str(raw.get("current_stage", "") or ""),
                    mlmodel=mlmodel,
                    artifacts_present=present,
                    model_id=str(raw.get("model_id", "") or ""),
                )
            )
    fetched = Fetched(
        runs=runs,
        versions=versions,
        aliases=all_aliases,
        experiment_names={str(x["experiment_id"]): str(x.get("name", "")) for x in experiments},
    )
    _list_version_run_artifacts(client, fetched)
    _check_histories(client, fetched, recent_runs)
    return fetched


ARTIFACT_RUNS = 20  # the runs behind the newest registered versions whose artifact names are listed
ARTIFACT_ENTRIES = 200


def _list_version_run_artifacts(client: MlflowReader, fetched: Fetched) -> None:
    """Artifact names (root and one level down) of the runs behind the newest versions; None when unreadable."""
    newest = sorted(fetched.versions, key=lambda v: v.version, reverse=True)[:ARTIFACT_RUNS]
    wanted = {v.run_id for v in newest if v.run_id}
    for index, run in enumerate(fetched.runs):
        if run.run_id not in wanted:
            continue
        names: list[str] = []
        try:
            for entry in client.list_run_artifacts(run.run_id):
                names.append(str(entry.get("path", "")))
                if entry.get("is_dir") and len(names) < ARTIFACT_ENTRIES:
                    names.extend(str(e.get("path", "")) for e in client.list_run_artifacts(run.run_id, entry["path"]))
        except MlflowError:
            # The artifact store is not reachable from the server: the rules say "could not be listed".
            fetched.runs[index] = replace(run, artifacts=None)
            continue
        fetched.runs[index] = replace(run, artifacts=tuple(names[:ARTIFACT_ENTRIES]))


def _read_model_files(
    client: MlflowReader, name: str, number: int, *, with_mlmodel: bool
) -> tuple[dict | None, bool | None]:
    try:
        uri = client.model_version_artifact_uri(name, number)
        files = client.list_artifacts(uri)
        present = bool(files)
        mlmodel = None
        if with_mlmodel and any(f.get("path") == "MLmodel" for f in files):
            try:
                loaded = yaml.safe_load(client.read_artifact_text(uri, "MLmodel", limit=MLMODEL_READ_LIMIT))
            except ArtifactTooLarge:
                # A fact of its own, shown next to the item, rather than a failed sync.
                loaded = {"unreadable": {"MLmodel": TOO_LARGE}}
            mlmodel = loaded if isinstance(loaded, dict) else None
            if mlmodel is not None:
                mlmodel["files"] = sorted(f.get("path", "") for f in files)
        return mlmodel, present
    except (ArtifactUnavailable, MlflowNotFound):
        return None, None
    except yaml.YAMLError:
        return None, True


def _check_histories(client: MlflowReader, fetched: Fetched, recent_runs: int) -> None:
    recent = sorted(fetched.runs, key=lambda r: r.start_time or 0, reverse=True)[:recent_runs]
    runs_by_key: dict[str, list[str]] = {}
    for run in recent:
        for key in run.metrics:
            runs_by_key.setdefault(key, []).append(run.run_id)
    bad: dict[str, set[str]] = {}
    for key, run_ids in sorted(runs_by_key.items()):
        for run_id, values in client.metric_histories(run_ids, key).items():
            if not all(math.isfinite(v) for v in values):
                bad.setdefault(run_id, set()).add(key)
    fetched.histories_checked.extend(run.run_id for run in recent)
    fetched.bad_histories.update({run_id: sorted(keys) for run_id, keys in bad.items()})


def alias_history(connection: MlflowConnection) -> list[AliasSighting]:
    """What each successful sync saw, merged with the exact alias changes the registry webhooks reported."""
    rows = (
        SyncRun.objects.filter(connection=connection, state=SyncState.SUCCEEDED)
        .order_by("finished_at", "pk")
        .values_list("started_at", "finished_at", "aliases_seen")
    )
    polled = [
        Polled(
            started_ms=_ms(started or at),
            sighting=AliasSighting(
                seen_ms=_ms(at), aliases={m: {a: int(v) for a, v in al.items()} for m, al in seen.items()}
            ),
        )
        for started, at, seen in rows
    ]
    return merge(polled, alias_changes(connection))


def _ms(at: Any) -> int:
    return int(at.timestamp() * 1000) if at else 0


def _fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _write_runs(connection: MlflowConnection, runs: list[RunFact]) -> None:
    existing = dict(SyncedRun.objects.filter(connection=connection).values_list("run_id", "fingerprint"))
    seen: set[str] = set()
    changed: list[SyncedRun] = []
    for run in runs:
        if run.run_id in seen:
            continue
        seen.add(run.run_id)
        fields = {
            "experiment_id": run.experiment_id,
            "name": run.name[:500],
            "status": run.status,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "parent_run_id": run.parent_run_id,
            "params": run.params,
            "metrics": json_safe(run.metrics),
            "tags": run.tags,
            "datasets": [d.__dict__ for d in run.datasets],
        }
        fingerprint = _fingerprint(fields)
        if existing.get(run.run_id) != fingerprint:
            changed.append(SyncedRun(connection=connection, run_id=run.run_id, fingerprint=fingerprint, **fields))
    update_fields = [
        "experiment_id",
        "name",
        "status",
        "start_time",
        "end_time",
        "parent_run_id",
        "params",
        "metrics",
        "tags",
        "datasets",
        "fingerprint",
    ]
    for start in range(0, len(changed), WRITE_BATCH):
        SyncedRun.objects.bulk_create(
            changed[start : start + WRITE_BATCH],
            update_conflicts=True,
            unique_fields=["connection", "run_id"],
            update_fields=update_fields,
        )
    gone = set(existing) - seen
    if gone:
        SyncedRun.objects.filter(connection=connection, run_id__in=gone).delete()


def _write_versions(connection: MlflowConnection, versions: list[VersionFact]) -> None:
    rows = [
        SyncedModelVersion(
            connection=connection,
            model_name=v.model_name,
            version=v.version,
            run_id=v.run_id,
            status="",
            current_stage=v.current_stage,
            created_ms=v.created_ms,
            tags=v.tags,
            aliases=list(v.aliases),
            mlmodel=json_safe(v.mlmodel),
            artifacts_present=v.artifacts_present,
        )
        for v in versions
    ]
    SyncedModelVersion.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["connection", "model_name", "version"],
        update_fields=["run_id", "current_stage", "created_ms", "tags", "aliases", "mlmodel", "artifacts_present"],
    )
    keep = {(v.model_name, v.version) for v in versions}
    for pk, model_name, number in SyncedModelVersion.objects.filter(connection=connection).values_list(
        "pk", "model_name", "version"
    ):
        if (model_name, number) not in keep:
            SyncedModelVersion.objects.filter(pk=pk).delete()


def store(sync: SyncRun, fetched: Fetched, history: list[AliasSighting]) -> int:
    """Write the fetched facts and the findings in one transaction; returns the number of findings."""
    connection = sync.connection
    now = timezone.now()
    snapshot = Snapshot(
        runs=fetched.runs,
        versions=fetched.versions,
        alias_history=[*history, AliasSighting(seen_ms=int(now.timestamp() * 1000), aliases=fetched.aliases)],
        now_ms=int(now.timestamp() * 1000),
        ui_base=connection.ui_url or connection.tracking_uri,
        serving_alias=connection.serving_alias,
        thresholds=connection.thresholds,
        histories_checked=tuple(fetched.histories_checked),
        bad_histories=fetched.bad_histories,
        experiment_names=fetched.experiment_names,
    )
    verdicts, reasons = _verdicts_in_every_language(snapshot)
    findings = [
        Finding(
            connection=connection,
            project_id=connection.project_id,
            sync=sync,
            item_code=code,
            result=verdict.result,
            reason=_full_reason(verdict)[:500],
            reasons=reasons[code],
            facts=json_safe(verdict.facts),
            links=list(verdict.links),
            # The level the evidence justifies (evidence.levels), whatever started this sync.
            suggested_status=verdict.suggested if verdict.result == FindingResult.PASS else "",
            synced_at=now,
        )
        for code, verdict in verdicts.items()
    ]
    with transaction.atomic():
        MlflowConnection.objects.select_for_update().filter(pk=connection.pk).first()
        _write_runs(connection, fetched.runs)
        _write_versions(connection, fetched.versions)
        Finding.objects.bulk_create(
            findings,
            update_conflicts=True,
            unique_fields=["connection", "item_code"],
            update_fields=[
                "project",
                "sync",
                "result",
                "reason",
                "reasons",
                "facts",
                "links",
                "suggested_status",
                "synced_at",
            ],
        )
        Finding.objects.filter(connection=connection).exclude(item_code__in=list(verdicts)).delete()
        SyncRun.objects.filter(pk=sync.pk).update(
            state=SyncState.SUCCEEDED,
            finished_at=now,
            runs_read=len({r.run_id for r in fetched.runs}),
            versions_read=len(fetched.versions),
            findings_written=len(findings),
            aliases_seen=fetched.aliases,
            error="",
            error_kind="",
        )
    return len(findings)


def _verdicts_in_every_language(snapshot: Snapshot) -> tuple[dict[str, Verdict], dict[str, dict[str, str]]]:
    """The verdicts in the site's default language, and each item's reason in every interface language.

    The rules run once; their reasons are Wordings, which re-translate their message with the same values.
    """
    with translation.override(settings.LANGUAGE_CODE):
        verdicts = evaluate(snapshot)
    reasons: dict[str, dict[str, str]] = {}
    for code, verdict in verdicts.items():
        reasons[code] = {
            language: " ".join(
                part.in_language(language) if isinstance(part, Wording) else part
                for part in (verdict.reason, verdict.level_reason)
                if part
            )[:500]
            for language, _name in settings.LANGUAGES
        }
    return verdicts, reasons


def _full_reason(verdict: Verdict) -> str:
    """The rule's reason followed by the sentence citing the recurrence behind the suggested level."""
    return " ".join(str(part) for part in (verdict.reason, verdict.level_reason) if part)


__all__ = ["Fetched", "MlflowError", "alias_history", "fetch", "json_safe", "store"]
