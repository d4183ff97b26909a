"""What every scenario is made of: labels per rubric item, and a kit that writes backdated MLflow history.

The histories are written with MLflow's own Python client (fluent API and `MlflowClient`), as a team would,
so that the rules are measured on what MLflow really records. Time is the one thing faked: runs are created
with a `start_time` in the past and terminated with a past `end_time`, so a history spans weeks although it
is written in seconds. The registry cannot be backdated (the server stamps version creation), so recurrence
over time is visible only through the runs behind the versions.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

SECTIONS = ("data", "model", "infra", "monitoring")
ITEM_CODES = tuple(f"{section}-{n}" for section in SECTIONS for n in range(1, 8))
DAY_MS = 86_400_000

# What a label may say: no suggestion should be made, or a pass at (at most) this level.
NONE = "none"
MANUAL = "manual"
AUTOMATED = "automated"
LEVEL_RANK = {MANUAL: 1, AUTOMATED: 2}


@dataclass(frozen=True)
class Label:
    expected: str  # NONE, MANUAL or AUTOMATED
    why: str

    @property
    def passes(self) -> bool:
        return self.expected != NONE

    def supports(self, suggested_level: str) -> bool:
        """A suggestion is supported when the item is labelled pass at this level or higher."""
        return self.passes and LEVEL_RANK.get(suggested_level, 99) <= LEVEL_RANK[self.expected]


def none(why: str) -> Label:
    return Label(NONE, why)


def manual(why: str) -> Label:
    return Label(MANUAL, why)


def automated(why: str) -> Label:
    return Label(AUTOMATED, why)


# The default reasons for the items MLflow cannot hold evidence of; scenarios override the few they back.
NOT_IN_MLFLOW = {
    "data-3": "feature cost (latency, memory, upstream dependencies) is not recorded in MLflow",
    "data-4": "meta-level feature requirements are a policy outside MLflow",
    "data-5": "privacy controls of the data pipeline are not visible in MLflow",
    "data-6": "the calendar time from feature idea to production is not recorded in MLflow",
    "data-7": "unit tests of feature code run in CI, not in MLflow",
    "model-2": "no online (business) metric is logged next to the offline ones",
    "model-7": "no evaluation across groups of people is logged",
    "infra-2": "unit tests of model code run in CI, not in MLflow",
    "infra-3": "a pipeline that runs is not a pipeline that is integration tested",
    "infra-5": "step-by-step debugging of one example leaves nothing in MLflow",
    "monitoring-1": "notifications of dependency changes are not recorded in MLflow",
    "monitoring-3": "no comparison of training and serving feature values is logged",
}


def labels(**overrides: Label) -> dict[str, Label]:
    """All 28 labels: `none` with a reason unless overridden (keyword `data_1=` for item `data-1`)."""
    result = {code: none(NOT_IN_MLFLOW.get(code, "nothing in this history backs it")) for code in ITEM_CODES}
    for key, label in overrides.items():
        code = key.replace("_", "-")
        if code not in result:
            raise KeyError(f"unknown item code {code!r}")
        result[code] = label
    return result


@dataclass(frozen=True)
class Scenario:
    """One labelled MLflow history: what to connect to, how to build it, and the expected result per item."""

    name: str
    title: str
    experiments: tuple[str, ...]
    registered_models: tuple[str, ...]
    build: Callable[[Kit], None]
    labels: dict[str, Label]
    serving_alias: str = "champion"
    # True: the alias history comes from registry webhooks (Kit.alias with days_ago records each change at
    # its time, as mlaudit's webhook endpoint would have); False: only from what each sync saw.
    webhooks: bool = False

    def __post_init__(self) -> None:
        assert set(self.labels) == set(ITEM_CODES), f"{self.name}: labels must cover all 28 items"


@dataclass
class Kit:
    """Writes one scenario's history on a tracking server; `checkpoint()` lets mlaudit poll in between."""

    tracking_uri: str
    checkpoint: Callable[[], None] = lambda: None
    # Called with (model, alias, version or None, ms) for each alias change made with a `days_ago`.
    on_alias: Callable[[str, str, int | None, int], None] = lambda *change: None
    now_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    def __post_init__(self) -> None:
        import mlflow

        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        self.client = mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def ms(self, days_ago: float) -> int:
        return self.now_ms - int(days_ago * DAY_MS)

    def experiment(self, name: str) -> str:
        import mlflow

        found = self.client.get_experiment_by_name(name)
        experiment_id = found.experiment_id if found else self.client.create_experiment(name)
        mlflow.set_experiment(experiment_id=experiment_id)
        return str(experiment_id)

    @contextlib.contextmanager
    def run(
        self,
        experiment_id: str,
        name: str,
        *,
        days_ago: float,
        minutes: float = 3,
        source: str = "LOCAL",
        source_name: str = "train.py",
        user: str = "ana",
        commit: str | None = None,
        parent: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Iterator[Any]:
        """A run that started `days_ago` and lasted `minutes`, active for the fluent API inside the block.

        The system tags are the ones MLflow's own context providers write (user, source name and type,
        git commit when the script is in a repository, parent run of a nested run); set explicitly so
        the history does not depend on where it is built.
        """
        import mlflow

        system = {"mlflow.user": user, "mlflow.source.name": source_name, "mlflow.source.type": source}
        if commit:
            system["mlflow.source.git.commit"] = commit
        if parent:
            system["mlflow.parentRunId"] = parent
        created = self.client.create_run(
            experiment_id, start_time=self.ms(days_ago), tags={**system, **(tags or {})}, run_name=name
        )
        run_id = created.info.run_id
        mlflow.set_experiment(experiment_id=experiment_id)  # the fluent API refuses a run of another experiment
        with mlflow.start_run(run_id=run_id, nested=parent is not None) as active:
            yield active
        self.client.set_terminated(run_id, "FINISHED", end_time=self.ms(days_ago) + int(minutes * 60_000))

    def metrics(self, values: dict[str, float], *, days_ago: float, step: int = 0) -> None:
        """Log metrics into the active run with a backdated timestamp."""
        import mlflow
        from mlflow.entities import Metric

        run_id = mlflow.active_run().info.run_id  # type: ignore[union-attr]
        stamp = self.ms(days_ago)
        self.client.log_batch(run_id, metrics=[Metric(k, float(v), stamp, step) for k, v in values.items()])

    def register(self, run_id: str, model_id: str | None, model: str, *, tags: dict[str, str] | None = None) -> str:
        """Register the model logged by `run_id` as a new version of `model`; returns the version number."""
        with contextlib.suppress(Exception):
            self.client.create_registered_model(model)
        source = f"models:/{model_id}" if model_id else f"runs:/{run_id}/model"
        version = self.client.create_model_version(model, source, run_id=run_id, tags=tags, model_id=model_id)
        return str(version.version)

    def alias(self, model: str, alias: str, version: str, *, days_ago: float | None = None) -> None:
        self.client.set_registered_model_alias(model, alias, version)
        if days_ago is not None:
            self.on_alias(model, alias, int(version), self.ms(days_ago))

    def unalias(self, model: str, alias: str, *, days_ago: float | None = None) -> None:
        self.client.delete_registered_model_alias(model, alias)
        if days_ago is not None:
            self.on_alias(model, alias, None, self.ms(days_ago))


def churn_frame(seed: int, rows: int = 400, *, drift: float = 0.0) -> Any:
    """A customer table like the ones churn models are trained on: tenure, charges, plan, support calls and
    whether the customer left. `drift` shifts the charges, as next month's customers would."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure_months": rng.integers(1, 72, rows).astype(float),
            "monthly_charges": rng.normal(70 + drift, 20, rows).round(2),
            "plan_pro": rng.integers(0, 2, rows).astype(float),
            "support_calls": rng.poisson(1.5, rows).astype(float),
        }
    )
    risk = 2.2 - 0.06 * frame["tenure_months"] + 0.02 * frame["monthly_charges"] + 0.5 * frame["support_calls"]
    frame["churned"] = (risk + rng.normal(0, 0.6, rows) > 1.0).astype(int)
    return frame


FEATURES = ["tenure_months", "monthly_charges", "plan_pro", "support_calls"]


def commit_of(n: int) -> str:
    """A plausible 40-hex git commit, one per number."""
    return f"{(n * 2654435761) % (1 << 160):040x}"[-40:]


def log_sklearn_model(model: Any, features: Any, *, name: str = "model") -> str | None:
    """Log a fitted scikit-learn model with its signature and an input example; returns its logged model id.

    `pip_requirements` is given so MLflow does not infer requirements (slow), as many teams pin them.
    """
    import mlflow
    from mlflow.models import infer_signature

    info = mlflow.sklearn.log_model(
        model,
        name=name,
        signature=infer_signature(features, model.predict(features)),
        input_example=features.head(2),
        pip_requirements=["scikit-learn", "pandas"],
    )
    return getattr(info, "model_id", None)


def evaluate(model_uri: str, frame: Any, *, target: str, model_type: str, prefix: str = "") -> dict[str, float]:
    """`mlflow.models.evaluate` with the default evaluator, metrics prefixed as teams do (`val_`, `test_`…).

    Explainability is off: SHAP is slow and not what these scenarios are about.
    """
    import mlflow

    with plots_as_placeholders():
        result = mlflow.models.evaluate(
            model_uri,
            frame,
            targets=target,
            model_type=model_type,
            evaluators="default",
            evaluator_config={"metric_prefix": prefix, "log_model_explainability": False},
        )
    return dict(result.metrics)


@contextlib.contextmanager
def plots_as_placeholders() -> Iterator[None]:
    """Let the default evaluator log its plots (ROC, PR, lift, calibration, confusion matrix) as 1-pixel PNGs.

    Drawing them with matplotlib was 90 of the corpus's 150 seconds. The rules read artifact *names* (and
    only names like `feature_importance` or `schema.json`, never these), so each plot is still logged
    under the exact name and path MLflow gives it; only its pixels are skipped.
    """
    from unittest import mock

    import mlflow
    from mlflow.models.evaluation.artifacts import ImageEvaluationArtifact
    from mlflow.models.evaluation.default_evaluator import BuiltInEvaluator
    from PIL import Image

    def log_placeholder(self: Any, do_plot: Callable[[], None], artifact_name: str) -> None:
        file_name = f"{self.evaluator_config.get('metric_prefix', '')}{artifact_name}.png"
        local_path = self.temp_dir.path(file_name)
        Image.new("RGB", (1, 1)).save(local_path)  # a real PNG: `ImageEvaluationArtifact` opens it
        mlflow.log_artifact(local_path)
        artifact = ImageEvaluationArtifact(uri=mlflow.get_artifact_uri(file_name))
        artifact._load(local_path)
        self.artifacts[artifact_name] = artifact

    with mock.patch.object(BuiltInEvaluator, "_log_image_artifact", log_placeholder):
        yield
