from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "integrations.reports"
    label = "ci_reports"
    verbose_name = "CI and monitoring reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from evidence.sources import register
        from integrations.reports.selectors import evidence_findings

        register("reports", evidence_findings)
