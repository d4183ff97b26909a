"""Reports CI pushes (test results, data validation, drift, alert rules) and the project's own mapping rules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.models import Project

MAX_RUN_FIELD = 200
MAX_URL = 500
MAX_UNMAPPED_NAMES = 200


class ReportKind(models.TextChoices):
    JUNIT = "junit", _("Test report (JUnit XML)")
    GREAT_EXPECTATIONS = "great_expectations", _("Data validation (Great Expectations)")
    EVIDENTLY = "evidently", _("Drift and quality (Evidently)")
    PROMETHEUS_RULES = "prometheus_rules", _("Alert rules (Prometheus)")


class Report(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=30, choices=ReportKind.choices)
    # CI's own run id: the same (project, kind, run_id) posted again is the same report (CI retries).
    run_id = models.CharField(max_length=MAX_RUN_FIELD, blank=True)
    run_url = models.URLField(max_length=MAX_URL, blank=True)
    commit = models.CharField(max_length=MAX_RUN_FIELD, blank=True)
    source = models.CharField(max_length=100, blank=True)
    reported_at = models.DateTimeField(help_text="The report's own time, else the time it was received.")
    received_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField()
    raw = models.BinaryField()  # gzip of the file as received
    check_count = models.PositiveIntegerField(default=0)
    # Only what findings need is kept parsed: the checks that map to items, each with the items it mapped to
    # at receipt ([{"name", "outcome", "items", "detail"}]), and the names of the others (the first
    # MAX_UNMAPPED_NAMES). The full list of checks is read again from the raw file when someone asks for it.
    checks = models.JSONField(default=list)
    unmapped = models.JSONField(default=list)
    unmapped_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-reported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "run_id"], condition=~models.Q(run_id=""), name="report_run_once"
            )
        ]
        indexes = [models.Index(fields=["project", "kind", "-reported_at"], name="report_project_kind_time")]

    def __str__(self) -> str:
        return f"{self.kind} report {self.run_id or self.pk} for {self.project}"


class ReportMapping(models.Model):
    """A project's rule: checks whose name matches `pattern` (shell-style, case-insensitive) back `item_code`."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="report_mappings")
    kind = models.CharField(max_length=30, choices=ReportKind.choices, blank=True)  # blank: every kind
    pattern = models.CharField(max_length=200)
    item_code = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind", "pattern", "item_code"], name="report_mapping_unique")
        ]

    def __str__(self) -> str:
        return f"{self.pattern} → {self.item_code}"
