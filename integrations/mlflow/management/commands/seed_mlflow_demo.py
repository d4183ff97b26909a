"""Give a demo project a local MLflow store with evidence, so a newcomer sees findings without any setup.

    python manage.py seed_mlflow_demo [--project churn-forecast] [--store var/mlflow-demo]

Needs the optional `mlflow` package (pip install mlflow) and MLAUDIT_ALLOW_LOCAL_MLFLOW=true (the default
with the embedded SQLite database). Without mlflow it says so and changes nothing. Running it twice
changes nothing either.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audits.models import Membership, Project, Role
from integrations.mlflow import demo, services
from integrations.mlflow.models import MlflowConnection, SyncState


class Command(BaseCommand):
    help = "Create a local MLflow demo store (runs, a registered model, a champion alias) and sync it into a project."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", default="churn-forecast", help="Slug of the project to connect.")
        parser.add_argument(
            "--store", default=None, help="Folder of the demo store (default: $MLAUDIT_VAR_DIR/mlflow-demo)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if importlib.util.find_spec("mlflow") is None:
            self.stdout.write(
                self.style.WARNING(
                    "The MLflow demo needs the optional mlflow package (pip install mlflow); skipped. "
                    "Everything else works without it: connect a real MLflow server from a project page."
                )
            )
            return
        if not settings.MLAUDIT_ALLOW_LOCAL_MLFLOW:
            raise CommandError("Local MLflow stores are disabled: set MLAUDIT_ALLOW_LOCAL_MLFLOW=true for the demo.")
        project = Project.objects.filter(slug=options["project"]).select_related("team").first()
        if project is None:
            self.stdout.write(self.style.WARNING(f"No project '{options['project']}' (run seed_demo first); skipped."))
            return
        if MlflowConnection.objects.filter(project=project, name="Demo MLflow store").exists():
            self.stdout.write("The MLflow demo store is already connected; nothing seeded.")
            return
        manager = self._manager(project)
        root = Path(options["store"] or settings.VAR_DIR / "mlflow-demo")
        db_path = root / "mlflow.db"
        if demo.store_has_demo(db_path):
            uri = f"sqlite:///{db_path.resolve()}"
        else:
            self.stdout.write(f"Logging demo runs and models to {db_path} (takes a few seconds) ...")
            uri = demo.build_store(root)
        connection = services.connection_create(
            actor=manager,
            project=project,
            name="Demo MLflow store",
            tracking_uri=uri,
            # `mlflow ui --backend-store-uri <uri>` serves the links here.
            ui_url="http://127.0.0.1:5000",
            experiments=[demo.EXPERIMENT],
            registered_models=[demo.MODEL],
            schedule="off",
        )
        # Two syncs around a release, so mlaudit's alias history shows the challenger becoming champion.
        self._sync(manager, connection)
        demo.set_aliases(uri, {"champion": "2", "previous": "1", "challenger": None})
        findings = self._sync(manager, connection)
        self.stdout.write(
            self.style.SUCCESS(
                f"Connected '{project.name}' to the demo MLflow store: {findings} findings. "
                f"To open the links run: mlflow ui --backend-store-uri {uri}"
            )
        )

    @staticmethod
    def _manager(project: Project) -> Any:
        membership = Membership.objects.filter(team=project.team, role=Role.MANAGER).select_related("user").first()
        if membership is None:
            raise CommandError(f"The team of '{project.slug}' has no manager to act as.")
        return membership.user

    @staticmethod
    def _sync(manager: Any, connection: MlflowConnection) -> int:
        sync = services.sync_request(actor=manager, connection=connection)
        services.sync_execute(sync_id=sync.pk, final_attempt=True)
        sync.refresh_from_db()
        if sync.state != SyncState.SUCCEEDED:
            raise CommandError(f"The demo sync failed: {sync.error}")
        return sync.findings_written
