"""What mlaudit knows about a team's MLflow servers: connections, syncs, the synced facts and findings."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from audits.models import Answer, Project
from evidence.sources import FindingResult

WEBHOOK_TOKEN_BYTES = 24  # 32 URL-safe characters: the webhook URL cannot be guessed from the connection id


class AuthType(models.TextChoices):
    NONE = "none", _("No authentication")
    BASIC = "basic", _("User name and password")
    TOKEN = "token", _("Bearer token")


def connection_limit(field: str) -> int:
    """A connection field's length limit as the model defines it; the form and the API serializer read it."""
    limit = getattr(MlflowConnection._meta.get_field(field), "max_length", None)
    assert limit is not None, field
    return int(limit)


class Schedule(models.TextChoices):
    OFF = "off", _("Only when asked")
    HOURLY = "hourly", _("Every hour")
    NIGHTLY = "nightly", _("Every night")
    WEEKLY = "weekly", _("Every week")


def new_webhook_token() -> str:
    return secrets.token_urlsafe(WEBHOOK_TOKEN_BYTES)


class MlflowConnection(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="mlflow_connections")
    name = models.CharField(max_length=100)
    tracking_uri = models.CharField(max_length=500)
    ui_url = models.CharField(max_length=500, blank=True, help_text=_("Base URL of the MLflow UI for links."))
    auth_type = models.CharField(max_length=10, choices=AuthType.choices, default=AuthType.NONE)
    username = models.CharField(max_length=200, blank=True)
    # Fernet token of the password or bearer token; see integrations.mlflow.crypto.
    secret_encrypted = models.TextField(blank=True)
    verify_tls = models.BooleanField(default=True)
    experiments = models.JSONField(default=list, blank=True, help_text=_("Experiment names or ids."))
    registered_models = models.JSONField(default=list, blank=True)
    serving_alias = models.CharField(max_length=100, default="champion")
    schedule = models.CharField(max_length=10, choices=Schedule.choices, default=Schedule.NIGHTLY)
    thresholds = models.JSONField(default=dict, blank=True, help_text=_("Overrides of the rules' thresholds."))
    next_sync_at = models.DateTimeField(null=True, blank=True)
    # Registry webhooks (integrations.mlflow.webhooks): the unguessable part of this connection's webhook URL,
    # and the Fernet token of the secret MLflow signs its deliveries with (none until a manager creates one).
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token, editable=False)
    webhook_secret_encrypted = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "name", "pk"]
        indexes = [models.Index(fields=["schedule", "next_sync_at"], name="mlflow_conn_due")]

    def __str__(self) -> str:
        return f"{self.name} ({self.tracking_uri})"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    @property
    def has_webhook_secret(self) -> bool:
        return bool(self.webhook_secret_encrypted)


class SyncState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class SyncTrigger(models.TextChoices):
    USER = "user", _("Started by a person")
    SCHEDULE = "schedule", _("Scheduled")
    WEBHOOK = "webhook", _("Registry webhook")


ACTIVE_SYNC_STATES = (SyncState.QUEUED, SyncState.RUNNING)


class SyncRun(models.Model):
    connection = models.ForeignKey(MlflowConnection, on_delete=models.CASCADE, related_name="syncs")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="mlflow_syncs")
    trigger = models.CharField(max_length=10, choices=SyncTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=10, choices=SyncState.choices, default=SyncState.QUEUED)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Set by each attempt as it starts: by then it has ended (the worker's hard time limit) or its retry has
    # started. A sync still active past it lost its worker, and a new sync may start (jobs.sync_is_expired).
    deadline = models.DateTimeField(null=True, blank=True)
    runs_read = models.PositiveIntegerField(default=0)
    versions_read = models.PositiveIntegerField(default=0)
    findings_written = models.PositiveIntegerField(default=0)
    error_kind = models.CharField(max_length=30, blank=True)
    error = models.TextField(blank=True)
    # MLflow keeps no alias history; each sync keeps the {model: {alias: version}} map it saw.
    aliases_seen = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-queued_at", "-pk"]
        indexes = [
            models.Index(fields=["project", "-queued_at"], name="mlflow_sync_project_recent"),
            models.Index(fields=["connection", "state"], name="mlflow_sync_conn_state"),
        ]

    def __str__(self) -> str:
        return f"sync #{self.pk} of {self.connection_id} ({self.state})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class SyncedRun(models.Model):
    """One MLflow run as last seen; keyed by run id, so syncing twice never duplicates it."""

    connection = models.ForeignKey(MlflowConnection, on_delete=models.CASCADE, related_name="runs")
    run_id = models.CharField(max_length=64)
    experiment_id = models.CharField(max_length=64)
    name = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, blank=True)
    start_time = models.BigIntegerField(null=True)
    end_time = models.BigIntegerField(null=True)
    parent_run_id = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    tags = models.JSONField(default=dict)
    datasets = models.JSONField(default=list)
    fingerprint = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "run_id"], name="mlflow_run_unique")]

    def __str__(self) -> str:
        return self.run_id


class SyncedModelVersion(models.Model):
    connection = models.ForeignKey(MlflowConnection, on_delete=models.CASCADE, related_name="model_versions")
    model_name = models.CharField(max_length=300)
    version = models.PositiveIntegerField()
    run_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=30, blank=True)
    current_stage = models.CharField(max_length=30, blank=True)
    created_ms = models.BigIntegerField(null=True)
    tags = models.JSONField(default=dict)
    aliases = models.JSONField(default=list)
    mlmodel = models.JSONField(null=True, blank=True)
    artifacts_present = models.BooleanField(null=True)

    class Meta:
        ordering = ["model_name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "model_name", "version"], name="mlflow_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.model_name} v{self.version}"


class Finding(models.Model):
    """The latest verdict of one rule for one connection; replaced by each successful sync."""

    connection = models.ForeignKey(MlflowConnection, on_delete=models.CASCADE, related_name="findings")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="mlflow_findings")
    sync = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="findings")
    item_code = models.CharField(max_length=50)
    result = models.CharField(max_length=10, choices=FindingResult.choices)
    reason = models.CharField(max_length=500)  # in the site's default language
    # The same reason in every interface language ({"es": ...}): a worker has no reader's language, so the
    # sync writes them all and each page shows its own (localized_reason).
    reasons = models.JSONField(default=dict, blank=True)
    facts = models.JSONField(default=dict)
    links = models.JSONField(default=list)
    suggested_status = models.CharField(max_length=20, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["item_code"]
        constraints = [models.UniqueConstraint(fields=["connection", "item_code"], name="mlflow_finding_unique")]
        indexes = [models.Index(fields=["project", "item_code"], name="mlflow_finding_project_item")]

    def __str__(self) -> str:
        return f"{self.item_code}: {self.result}"

    @property
    def localized_reason(self) -> str:
        """The reason in the active language, else in the default one (findings synced before reasons)."""
        language = get_language() or ""
        return self.reasons.get(language) or self.reasons.get(language.split("-")[0]) or self.reason

    def snapshot(self) -> dict:
        return {
            "item": self.item_code,
            "result": self.result,
            "reason": self.localized_reason,
            "links": list(self.links),
            "facts": self.facts,
            "suggested_status": self.suggested_status or None,
            "synced_at": self.synced_at.isoformat(),
            "sync": self.sync_id,
            "connection": self.connection_id,
        }


class AcceptedFinding(models.Model):
    """A frozen copy of the finding a person accepted into an answer; later syncs never touch it.

    Its provenance (which evidence, observed when, about which model version, at which level) is kept in
    columns, so audits.staleness can tell when the answer stops holding without reading the snapshots.
    """

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="accepted_findings")
    item_code = models.CharField(max_length=50)
    snapshot = models.JSONField()
    # The evidence source (evidence.sources.SOURCES) and what it observed: "sync:<id>" or "report:<id>".
    source = models.CharField(max_length=30, default="mlflow")
    evidence_key = models.CharField(max_length=100, blank=True)
    observed_at = models.DateTimeField(null=True, blank=True)  # when the evidence was synced or received
    accepted_status = models.CharField(max_length=20, blank=True)  # the level the answer took
    # The serving model version the evidence was about (MLflow only): registered model, alias → version, as
    # the sync behind the finding saw them. Empty for sources that know no model version.
    connection = models.ForeignKey(MlflowConnection, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    model_name = models.CharField(max_length=300, blank=True)
    model_alias = models.CharField(max_length=255, blank=True)
    model_version = models.PositiveIntegerField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-accepted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.item_code} accepted {self.accepted_at:%Y-%m-%d}"


class WebhookDelivery(models.Model):
    """One signed delivery MLflow sent to a connection's webhook; its id is kept so a replay changes nothing."""

    connection = models.ForeignKey(MlflowConnection, on_delete=models.CASCADE, related_name="webhook_deliveries")
    delivery_id = models.CharField(max_length=100)
    event = models.CharField(max_length=60)  # "entity.action", e.g. model_version_alias.created
    event_at = models.DateTimeField()  # the payload's own time, which MLflow stamps when the event happens
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "delivery_id"], name="mlflow_webhook_delivery_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.delivery_id})"


class AliasEvent(models.Model):
    """An alias that MLflow said was set (version) or deleted (no version) at an exact time."""

    connection = models.ForeignKey(MlflowConnection, on_delete=models.CASCADE, related_name="alias_events")
    delivery = models.OneToOneField(WebhookDelivery, on_delete=models.CASCADE, related_name="alias_event")
    model_name = models.CharField(max_length=300)
    alias = models.CharField(max_length=255)
    version = models.PositiveIntegerField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["connection", "at"], name="mlflow_alias_event_recent")]

    def __str__(self) -> str:
        target = f"v{self.version}" if self.version is not None else "deleted"
        return f"{self.model_name}@{self.alias} → {target}"
