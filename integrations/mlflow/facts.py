"""The synced facts the rules read: plain, immutable values, so rules stay pure and testable by hand."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

DEFAULT_THRESHOLDS: dict[str, Any] = {
    "quality_metric": "accuracy",
    "higher_is_better": True,
    "quality_tolerance": 0.0,
    "latency_metric": "latency_ms",
    "latency_tolerance": 0.10,
    "reproducibility_tolerance": 0.01,
    "slice_prefix": "slice/",
    "slice_min_ratio": 0.95,
    "max_serving_age_days": 30,
    "min_sweep_runs": 3,
    "recent_runs": 10,
    "validation_metric_prefixes": ["val_", "validation_", "eval_"],
    "approval_tags": ["approved", "mlaudit.approved"],
    "baseline_tags": ["baseline", "mlaudit.baseline"],
    "canary_aliases": ["challenger", "canary"],
    "previous_alias": "previous",
    "git_dirty_tags": ["git_dirty", "mlaudit.git_dirty"],
}

TRUE_WORDS = {"true", "1", "yes", "y"}
FALSE_WORDS = {"false", "0", "no", "n"}
GIT_COMMIT_TAG = "mlflow.source.git.commit"
PARENT_TAG = "mlflow.parentRunId"


def is_true(value: Any) -> bool:
    return str(value).strip().lower() in TRUE_WORDS


def is_false(value: Any) -> bool:
    return str(value).strip().lower() in FALSE_WORDS


@dataclass(frozen=True)
class DatasetFact:
    name: str
    digest: str
    context: str = ""
    schema: str = ""


@dataclass(frozen=True)
class RunFact:
    run_id: str
    experiment_id: str
    name: str = ""
    status: str = "FINISHED"
    start_time: int | None = None
    end_time: int | None = None
    parent_run_id: str = ""
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    datasets: tuple[DatasetFact, ...] = ()

    @property
    def dataset_digests(self) -> frozenset[str]:
        return frozenset(d.digest for d in self.datasets if d.digest)

    @property
    def training_datasets(self) -> list[DatasetFact]:
        marked = [d for d in self.datasets if d.context in ("training", "train")]
        return marked or list(self.datasets)


@dataclass(frozen=True)
class VersionFact:
    model_name: str
    version: int
    run_id: str = ""
    created_ms: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    current_stage: str = ""
    mlmodel: dict[str, Any] | None = None
    artifacts_present: bool | None = None


@dataclass(frozen=True)
class AliasSighting:
    """What one sync saw: {model name: {alias: version}} at a time (ms since the epoch)."""

    seen_ms: int
    aliases: dict[str, dict[str, int]]


@dataclass
class Snapshot:
    runs: list[RunFact]
    versions: list[VersionFact]
    alias_history: list[AliasSighting]  # oldest first; the last one is the current sync
    now_ms: int
    ui_base: str
    serving_alias: str = "champion"
    thresholds: dict[str, Any] = field(default_factory=dict)
    # Runs whose metric histories were read, and the metric keys with NaN or infinite values in them.
    histories_checked: tuple[str, ...] = ()
    bad_histories: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.thresholds = {**DEFAULT_THRESHOLDS, **(self.thresholds or {})}
        self._runs = {run.run_id: run for run in self.runs}

    def t(self, name: str) -> Any:
        return self.thresholds[name]

    def run(self, run_id: str) -> RunFact | None:
        return self._runs.get(run_id)

    def version(self, model_name: str, number: int) -> VersionFact | None:
        for v in self.versions:
            if v.model_name == model_name and v.version == number:
                return v
        return None

    # Links into the MLflow UI -------------------------------------------------

    def run_link(self, run: RunFact) -> str:
        return f"{self.ui_base.rstrip('/')}/#/experiments/{quote(run.experiment_id)}/runs/{quote(run.run_id)}"

    def version_link(self, version: VersionFact) -> str:
        return f"{self.ui_base.rstrip('/')}/#/models/{quote(version.model_name, safe='')}/versions/{version.version}"

    # Serving -------------------------------------------------------------------

    def serving(self) -> VersionFact | None:
        """The version the serving alias points at; on older servers, the newest one in the Production stage."""
        for v in self.versions:
            if self.serving_alias in v.aliases:
                return v
        production = [v for v in self.versions if v.current_stage.lower() == "production"]
        return max(production, key=lambda v: v.version) if production else None

    def serving_sequence(self, model_name: str) -> list[tuple[int, int]]:
        """(first seen ms, version) each time mlaudit saw the serving alias move, oldest first."""
        sequence: list[tuple[int, int]] = []
        for sighting in self.alias_history:
            version = sighting.aliases.get(model_name, {}).get(self.serving_alias)
            if version is not None and (not sequence or sequence[-1][1] != version):
                sequence.append((sighting.seen_ms, version))
        return sequence

    def serving_since_ms(self, version: VersionFact) -> int | None:
        """When mlaudit first saw this version serving; None if it was already serving at the first sync."""
        sequence = self.serving_sequence(version.model_name)
        if len(sequence) < 2 or sequence[-1][1] != version.version:
            return None
        return sequence[-1][0]

    def previous_serving(self, current: VersionFact) -> VersionFact | None:
        sequence = self.serving_sequence(current.model_name)
        for _seen, number in reversed(sequence):
            if number != current.version:
                return self.version(current.model_name, number)
        for v in self.versions:
            if v.model_name == current.model_name and self.t("previous_alias") in v.aliases:
                return v
        return None

    def latest_finished_run(self) -> RunFact | None:
        finished = [r for r in self.runs if r.status == "FINISHED"]
        return max(finished, key=lambda r: r.start_time or 0) if finished else None

    def recent_runs(self) -> list[RunFact]:
        return sorted(self.runs, key=lambda r: r.start_time or 0, reverse=True)[: int(self.t("recent_runs"))]


def parse_signature_inputs(mlmodel: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """The signature's input columns, or None when the MLmodel file has no signature."""
    if not mlmodel or not isinstance(mlmodel.get("signature"), dict):
        return None
    raw = mlmodel["signature"].get("inputs")
    if not raw:
        return None
    try:
        inputs = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    return inputs if isinstance(inputs, list) else None


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
