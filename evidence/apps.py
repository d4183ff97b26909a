from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    """Source-neutral evidence helpers (levels, wording) shared by MLflow and, later, CI reports."""

    name = "evidence"
    verbose_name = "Evidence"
