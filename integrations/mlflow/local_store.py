"""Read a local MLflow SQLite store (sqlite:///path/mlflow.db) without the mlflow package.

Only for the embedded demo and single-machine setups (MLAUDIT_ALLOW_LOCAL_MLFLOW=true). It answers the
same calls as the REST client with the same JSON shapes, so the sync does not care which one it has.
Artifacts are read from local paths only.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _

from integrations.mlflow.client import ArtifactUnavailable, MlflowError, MlflowNotFound, MlflowUnavailable


class LocalStoreRefused(MlflowError):
    kind = "refused_url"


def _path_of(uri: str) -> Path:
    # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy spells them.
    return Path(uri.split("sqlite://", 1)[1][1:])


class LocalStoreClient:
    def __init__(self, tracking_uri: str):
        path = _path_of(tracking_uri)
        if not path.is_file():
            raise MlflowUnavailable(_("No MLflow SQLite store at {path}.").format(path=path))
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> LocalStoreClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise MlflowUnavailable(_("The local MLflow store could not be read: {error}.").format(error=exc)) from None

    def check(self) -> None:
        self._all("SELECT 1 FROM experiments LIMIT 1")

    def get_experiment(self, name_or_id: str) -> dict[str, Any]:
        rows = self._all(
            "SELECT * FROM experiments WHERE name = ? OR CAST(experiment_id AS TEXT) = ?", name_or_id, name_or_id
        )
        if not rows:
            raise MlflowNotFound(_("No experiment named “{name}” in the local store.").format(name=name_or_id))
        return {"experiment_id": str(rows[0]["experiment_id"]), "name": rows[0]["name"]}

    def _runs(self, where: str, *args: Any) -> list[dict[str, Any]]:
        runs = self._all(
            f"SELECT * FROM runs WHERE lifecycle_stage = 'active' AND {where} ORDER BY start_time DESC", *args
        )
        ids = [r["run_uuid"] for r in runs]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        grouped: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for table, kind in (("params", "params"), ("tags", "tags")):
            for row in self._all(f"SELECT key, value, run_uuid FROM {table} WHERE run_uuid IN ({marks})", *ids):
                grouped[row["run_uuid"]][kind].append({"key": row["key"], "value": row["value"]})
        for row in self._all(
            f"SELECT key, value, is_nan, run_uuid FROM latest_metrics WHERE run_uuid IN ({marks})", *ids
        ):
            value = "NaN" if row["is_nan"] else row["value"]
            grouped[row["run_uuid"]]["metrics"].append({"key": row["key"], "value": value})
        inputs = self._all(
            f"SELECT i.destination_id AS run_uuid, i.input_uuid, d.name, d.digest, d.dataset_schema FROM inputs i "
            f"JOIN datasets d ON d.dataset_uuid = i.source_id WHERE i.source_type = 'DATASET' "
            f"AND i.destination_type = 'RUN' AND i.destination_id IN ({marks})",
            *ids,
        )
        contexts = {
            row["input_uuid"]: row["value"]
            for row in self._all("SELECT input_uuid, value FROM input_tags WHERE name = 'mlflow.data.context'")
        }
        for row in inputs:
            grouped[row["run_uuid"]]["inputs"].append(
                {
                    "tags": [{"key": "mlflow.data.context", "value": contexts.get(row["input_uuid"], "")}],
                    "dataset": {"name": row["name"], "digest": row["digest"], "schema": row["dataset_schema"] or ""},
                }
            )
        return [
            {
                "info": {
                    "run_id": r["run_uuid"],
                    "experiment_id": str(r["experiment_id"]),
                    "run_name": r["name"] or "",
                    "status": r["status"],
                    "start_time": r["start_time"],
                    "end_time": r["end_time"],
                },
                "data": {k: grouped[r["run_uuid"]][k] for k in ("params", "metrics", "tags")},
                "inputs": {"dataset_inputs": grouped[r["run_uuid"]]["inputs"]},
            }
            for r in runs
        ]

    def iter_run_pages(self, experiment_ids: list[str], *, page_size: int = 1000) -> Iterator[list[dict]]:
        marks = ",".join("?" * len(experiment_ids))
        yield self._runs(f"CAST(experiment_id AS TEXT) IN ({marks})", *experiment_ids)

    def get_run(self, run_id: str) -> dict[str, Any]:
        runs = self._runs("run_uuid = ?", run_id)
        if not runs:
            raise MlflowNotFound(_("No run {run} in the local store.").format(run=run_id))
        return runs[0]

    def metric_history(self, run_id: str, key: str) -> list[float]:
        rows = self._all("SELECT value, is_nan FROM metrics WHERE run_uuid = ? AND key = ?", run_id, key)
        return [float("nan") if row["is_nan"] else float(row["value"]) for row in rows]

    def metric_histories(self, run_ids: list[str], key: str) -> dict[str, list[float]]:
        return {run_id: self.metric_history(run_id, key) for run_id in run_ids}

    def get_registered_model(self, name: str) -> dict[str, Any]:
        if not self._all("SELECT name FROM registered_models WHERE name = ?", name):
            raise MlflowNotFound(_("No registered model named “{name}” in the local store.").format(name=name))
        aliases = self._all("SELECT alias, version FROM registered_model_aliases WHERE name = ?", name)
        return {"name": name, "aliases": [{"alias": a["alias"], "version": str(a["version"])} for a in aliases]}

    def search_model_versions(self, name: str) -> list[dict[str, Any]]:
        tags: dict[int, list] = defaultdict(list)
        for row in self._all("SELECT key, value, version FROM model_version_tags WHERE name = ?", name):
            tags[row["version"]].append({"key": row["key"], "value": row["value"]})
        return [
            {
                "name": name,
                "version": str(row["version"]),
                "run_id": row["run_id"] or "",
                "creation_timestamp": row["creation_time"],
                "current_stage": row["current_stage"] or "",
                "tags": tags[row["version"]],
                "storage_location": row["storage_location"] or row["source"] or "",
            }
            for row in self._all("SELECT * FROM model_versions WHERE name = ? ORDER BY version", name)
        ]

    def model_version_artifact_uri(self, name: str, version: str | int) -> str:
        rows = self._all(
            "SELECT storage_location, source FROM model_versions WHERE name = ? AND version = ?", name, int(version)
        )
        if not rows:
            raise MlflowNotFound(_("No version {version} of “{name}”.").format(version=version, name=name))
        return str(rows[0]["storage_location"] or rows[0]["source"] or "")

    @staticmethod
    def _local_dir(artifact_uri: str) -> Path:
        parts = urlsplit(artifact_uri)
        if parts.scheme not in ("", "file"):
            raise ArtifactUnavailable(_("Artifacts at {uri} are not on this machine.").format(uri=artifact_uri))
        return Path(unquote(parts.path))

    def list_artifacts(self, artifact_uri: str) -> list[dict[str, Any]]:
        folder = self._local_dir(artifact_uri)
        if not folder.is_dir():
            return []
        return [{"path": p.name, "is_dir": p.is_dir()} for p in sorted(folder.iterdir())]

    def list_run_artifacts(self, run_id: str, path: str = "") -> list[dict[str, Any]]:
        """Like the REST client's: entries of the run's artifact folder, paths relative to the run's root."""
        rows = self._all("SELECT artifact_uri FROM runs WHERE run_uuid = ?", run_id)
        if not rows:
            raise MlflowNotFound(_("No run {run} in the local store.").format(run=run_id))
        root = self._local_dir(str(rows[0]["artifact_uri"] or ""))
        folder = root / path if path else root
        if not folder.is_dir():
            return []
        return [{"path": str(p.relative_to(root)), "is_dir": p.is_dir()} for p in sorted(folder.iterdir())]

    def read_artifact_text(self, artifact_uri: str, relative: str, *, limit: int = 1_000_000) -> str:
        path = self._local_dir(artifact_uri) / relative
        if not path.is_file():
            raise MlflowNotFound(_("{file} not found in {uri}.").format(file=relative, uri=artifact_uri))
        return path.read_text(errors="replace")[:limit]
