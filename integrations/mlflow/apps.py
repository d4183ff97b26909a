from django.apps import AppConfig


class MlflowEvidenceConfig(AppConfig):
    name = "integrations.mlflow"
    # "mlflow" alone would clash with the mlflow package's name in logs and admin URLs.
    label = "mlflow_evidence"
    verbose_name = "Evidence from MLflow"

    def ready(self) -> None:
        from evidence.sources import register
        from integrations.mlflow.selectors import evidence_findings

        register("mlflow", evidence_findings)
