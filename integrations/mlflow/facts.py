"""The synced facts the rules read: plain, immutable values, so rules stay pure and testable by hand.

Also what mlaudit knows about MLflow's own conventions: the metric names `mlflow.models.evaluate`
logs (with its optional `metric_prefix`), which way each is better, and the documented tags.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

# What the rules compare against and which names they look for, each with its default and its kind; a
# connection's overrides are validated against this model when saved (services.validate_thresholds), and a
# rule reads `s.thresholds.<name>`, so a misspelt name is a type error rather than a KeyError at sync time.
# None means "detect from MLflow's conventions".
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Words = Annotated[list[Text], Field(min_length=1)]
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    quality_metric: Text | None = None  # e.g. "roc_auc"; detected from what the serving run logged when not given
    higher_is_better: StrictBool | None = None  # known for MLflow's standard names; give it for a custom metric
    quality_tolerance: Amount = 0.0
    latency_metrics: Words = ["latency_ms", "latency/mean", "p95_latency_ms", "p99_latency_ms", "inference_latency_ms"]
    latency_tolerance: Amount = 0.10
    reproducibility_tolerance: Amount = 0.01
    slice_min_ratio: Amount = 0.95
    max_serving_age_days: Count = 30
    min_sweep_runs: Count = 3
    recent_runs: Count = 10
    evaluation_prefixes: Words = ["val_", "validation_", "test_", "eval_", "holdout_"]
    validation_tags: Words = ["validation_status", "model_validation_status"]
    approving_values: Words = ["approved", "passed", "validated", "pass", "ok", "true"]
    baseline_words: Words = ["baseline", "dummy", "majority", "naive"]
    canary_aliases: Words = ["challenger", "canary", "shadow"]
    canary_tags: Words = ["canary_status", "shadow_status"]
    previous_alias: Text = "previous"
    ci_tags: Words = ["ci", "ci.pipeline", "github.run_id", "gitlab.pipeline_id", "jenkins.build"]
    monitoring_words: Words = ["backtest", "monitoring", "monitor", "production-eval"]
    integration_words: Words = ["integration", "e2e", "end-to-end", "smoke"]
    expectation_artifacts: Words = ["expectations", "data_schema", "data_validation", "data_contract", "schema.json"]
    importance_artifacts: Words = ["feature_importance", "shap", "permutation_importance", "ablation"]
    fairness_words: Words = ["gender", "sex", "age", "race", "ethnicity", "religion", "disability", "nationality"]
    fairness_metrics: Words = ["demographic_parity", "equalized_odds", "equal_opportunity", "disparate_impact"]
    input_check_words: Words = ["drift", "violation", "invalid", "missing_rate", "null_rate", "out_of_range"]
    stability_check_words: Words = ["nan_count", "inf_count", "non_finite", "nan_rate"]

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> Thresholds:
        """A connection's saved overrides; names a later release dropped are ignored rather than failing syncs."""
        known = {k: v for k, v in (stored or {}).items() if k in cls.model_fields and v is not None}
        # Lax: a value saved before this model (10.0 for a count) still reads as what it meant.
        return cls.model_validate(known, strict=False)


TRUE_WORDS = {"true", "1", "yes", "y"}
FALSE_WORDS = {"false", "0", "no", "n"}
# MLflow's documented tags (mlflow/utils/mlflow_tags.py).
GIT_COMMIT_TAG = "mlflow.source.git.commit"
PARENT_TAG = "mlflow.parentRunId"
SOURCE_TYPE_TAG = "mlflow.source.type"
USER_TAG = "mlflow.user"
AUTOLOG_TAG = "mlflow.autologging"
LOG_MODEL_TAG = "mlflow.log-model.history"
SYSTEM_SOURCE_TYPES = ("JOB", "PROJECT")
TRAINING_CONTEXTS = ("training", "train")

# The standard names mlflow.models.evaluate logs (evaluators/classifier.py, regressor.py) and common
# hand-logged ones: True when higher is better. Most telling first: the one found first is the quality metric.
STANDARD_METRICS: dict[str, bool] = {
    "roc_auc": True,
    "f1_score": True,
    "accuracy_score": True,
    "precision_recall_auc": True,
    "precision_score": True,
    "recall_score": True,
    "log_loss": False,
    "root_mean_squared_error": False,
    "mean_squared_error": False,
    "mean_absolute_error": False,
    "r2_score": True,
    "mean_absolute_percentage_error": False,
    "max_error": False,
    "auc": True,
    "f1": True,
    "accuracy": True,
    "rmse": False,
    "mse": False,
    "mae": False,
    "r2": True,
}
# A prefix is made of letters, digits and _ or / (evaluate's metric_prefix, slice forms).
_PREFIXED = re.compile(r"^(?P<prefix>.*?)(?P<base>" + "|".join(sorted(STANDARD_METRICS, key=len, reverse=True)) + r")$")


def is_true(value: Any) -> bool:
    return str(value).strip().lower() in TRUE_WORDS


def is_false(value: Any) -> bool:
    return str(value).strip().lower() in FALSE_WORDS


def split_metric(key: str) -> tuple[str, str] | None:
    """(prefix, standard base name) for keys like "val_roc_auc" or "roc_auc"; None for other keys."""
    match = _PREFIXED.match(key)
    if not match:
        return None
    prefix = match.group("prefix")
    if prefix and not prefix.endswith(("_", "/", ".")):
        return None  # "tf1" is not f1
    return prefix, match.group("base")


def slice_of(key: str, base: str) -> str | None:
    """The slice name of a per-slice metric of `base`: slice_<name>_<base> or slice/<name>/<base>."""
    for prefix in ("slice_", "slice/"):
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            for sep in ("_", "/"):
                if rest.endswith(sep + base) and len(rest) > len(base) + 1:
                    return rest[: -len(base) - 1]
    return None


def higher_is_better(base: str, given: bool | None = None) -> bool:
    if given is not None:
        return bool(given)
    if base in STANDARD_METRICS:
        return STANDARD_METRICS[base]
    return not any(word in base for word in ("loss", "error", "latency", "time"))


@dataclass(frozen=True)
class DatasetFact:
    name: str
    digest: str
    context: str = ""
    schema: str = ""
    profile: str = ""
    source_type: str = ""


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
    model_outputs: tuple[str, ...] = ()  # MLflow 3 logged model ids this run produced
    model_inputs: tuple[str, ...] = ()  # ... and the ones it used (e.g. evaluate(model_id=...))
    artifacts: tuple[str, ...] | None = None  # listed only for runs behind registered versions

    @property
    def dataset_digests(self) -> frozenset[str]:
        return frozenset(d.digest for d in self.datasets if d.digest)

    @property
    def training_datasets(self) -> list[DatasetFact]:
        return [d for d in self.datasets if d.context.lower() in TRAINING_CONTEXTS]

    @property
    def training_digests(self) -> frozenset[str]:
        return frozenset(d.digest for d in self.training_datasets if d.digest)

    @property
    def evaluation_datasets(self) -> list[DatasetFact]:
        return [d for d in self.datasets if d.context and d.context.lower() not in TRAINING_CONTEXTS]

    @property
    def when(self) -> int:
        return self.start_time or self.end_time or 0

    @property
    def logged_model(self) -> bool:
        return bool(self.model_outputs) or LOG_MODEL_TAG in self.tags

    @property
    def is_training(self) -> bool:
        """A training run: it has params and produced a model or read a training dataset."""
        return bool(self.params) and (self.logged_model or bool(self.training_datasets))

    @property
    def is_evaluation(self) -> bool:
        """An evaluation-only run: no params of its own, it evaluates (metrics, an evaluation input)."""
        return not self.params and bool(self.metrics)

    def evaluated_prefixes(self) -> set[str]:
        """Prefixes under which mlflow.models.evaluate logged here: it always logs <prefix>example_count
        next to its standard metrics (autolog does not)."""
        found = set()
        for key in self.metrics:
            if key.endswith("example_count"):
                prefix = key[: -len("example_count")]
                if any(split_metric(k) == (prefix, b) for k in self.metrics for b in STANDARD_METRICS):
                    found.add(prefix)
        return found

    def evaluated_on(self, prefix: str) -> frozenset[str]:
        """Digests of the datasets mlflow.models.evaluate read under this prefix: it logs its dataset as an
        input whose context is the metric_prefix (no context without a prefix)."""
        wanted = prefix.lower()
        return frozenset(
            d.digest
            for d in self.datasets
            if d.digest and d.context.lower() not in TRAINING_CONTEXTS and d.context.lower() in (wanted, "")
        )

    def held_out_prefixes(self, training: frozenset[str]) -> set[str]:
        """The evaluate prefixes whose data is not the training data: evaluating a model on the rows it was
        fitted on looks like validation but shows nothing. Without dataset inputs, nothing says otherwise."""
        return {p for p in self.evaluated_prefixes() if not (self.evaluated_on(p) and self.evaluated_on(p) <= training)}

    def artifact_matching(self, words: list[str]) -> list[str]:
        return [a for a in (self.artifacts or ()) if any(w.lower() in a.lower() for w in words)]


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
    model_id: str = ""  # MLflow 3: the logged model behind the version


@dataclass(frozen=True)
class AliasSighting:
    """What one sync (or one registry event) saw: {model name: {alias: version}} at a time (ms)."""

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
    thresholds: Thresholds = field(default_factory=Thresholds)
    # Runs whose metric histories were read, and the metric keys with NaN or infinite values in them.
    histories_checked: tuple[str, ...] = ()
    bad_histories: dict[str, list[str]] = field(default_factory=dict)
    experiment_names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.thresholds, Thresholds):  # a plain mapping (tests, stored overrides)
            self.thresholds = Thresholds.from_stored(self.thresholds)
        self._runs = {run.run_id: run for run in self.runs}

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

    # Conventions ----------------------------------------------------------------

    def launched_by_system(self, run: RunFact) -> tuple[bool, str]:
        """Was the run launched by a pipeline? mlflow.source.type JOB/PROJECT, or a configured CI tag."""
        source = run.tags.get(SOURCE_TYPE_TAG, "").upper()
        if source in SYSTEM_SOURCE_TYPES:
            return True, f"{SOURCE_TYPE_TAG}={source}"
        for tag in self.thresholds.ci_tags:
            if run.tags.get(tag):
                return True, tag
        return False, ""

    def is_monitoring(self, run: RunFact) -> bool:
        """A backtest/monitoring run: its experiment or run name says so (configurable words)."""
        names = f"{self.experiment_names.get(run.experiment_id, '')} {run.name}".lower()
        return any(word.lower() in names for word in self.thresholds.monitoring_words)

    def quality_base(self, run: RunFact | None = None) -> str | None:
        """The quality metric: the setting, else the most telling standard name the run logged."""
        if self.thresholds.quality_metric:
            return str(self.thresholds.quality_metric)
        candidates = [run] if run else []
        for candidate in candidates:
            bases = {split[1] for k in candidate.metrics if (split := split_metric(k)) and "training" not in split[0]}
            for base in STANDARD_METRICS:
                if base in bases:
                    return base
        return None

    def better(self, base: str) -> bool:
        return higher_is_better(base, self.thresholds.higher_is_better)

    def quality_key(self, run: RunFact, base: str) -> str | None:
        """The key of `base` in the run, preferring evaluation prefixes over the bare name; never training_."""
        for prefix in (*self.thresholds.evaluation_prefixes, ""):
            if prefix + base in run.metrics:
                return prefix + base
        return None

    # Serving -------------------------------------------------------------------

    def serving(self) -> VersionFact | None:
        """The version the serving alias points at; on older servers, the newest one in the Production stage."""
        for v in self.versions:
            if self.serving_alias in v.aliases:
                return v
        production = [v for v in self.versions if v.current_stage.lower() == "production"]
        return max(production, key=lambda v: v.version) if production else None

    def versions_of(self, model_name: str) -> list[VersionFact]:
        return sorted((v for v in self.versions if v.model_name == model_name), key=lambda v: v.version)

    def version_time(self, version: VersionFact) -> int:
        """When a version was made: its run's start (backdatable), else the registry's creation time."""
        run = self.run(version.run_id)
        return (run.when if run else 0) or version.created_ms or 0

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

    def first_served_ms(self, version: VersionFact) -> int | None:
        """When the serving alias was first seen on this version (exact from a webhook; from a poll, the first
        sync that saw it); None when it never served."""
        for seen, number in self.serving_sequence(version.model_name):
            if number == version.version:
                return seen
        return None

    def previous_serving(self, current: VersionFact) -> VersionFact | None:
        sequence = self.serving_sequence(current.model_name)
        for _seen, number in reversed(sequence):
            if number != current.version:
                return self.version(current.model_name, number)
        for v in self.versions:
            if v.model_name == current.model_name and self.thresholds.previous_alias in v.aliases:
                return v
        return None

    def latest_finished_run(self) -> RunFact | None:
        finished = [r for r in self.runs if r.status == "FINISHED"]
        return max(finished, key=lambda r: r.when) if finished else None

    def recent_runs(self) -> list[RunFact]:
        return sorted(self.runs, key=lambda r: r.when, reverse=True)[: int(self.thresholds.recent_runs)]


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
