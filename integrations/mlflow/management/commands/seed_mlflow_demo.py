"""Seed a running MLflow server with the demo history and connect the demo project to it.

    python manage.py seed_mlflow_demo --tracking-uri http://127.0.0.1:5000 [--project churn-forecast] [--wait 120]

`manage.py run_demo` (make run) starts the server and runs this in the background. Needs the optional
`mlflow` package; without it, it says so and changes nothing. A server already holding the demo is not
seeded again; the connection is pointed at the given URI (its port may change at each start) and synced.
MLflow's MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD, when set, are used by both.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audits.models import Project
from evidence.sources import FindingResult
from integrations.mlflow import demo
from integrations.mlflow.models import Finding
from integrations.mlflow.server_process import wait_for_health

PREFIX = "MLflow demo:"


class Command(BaseCommand):
    help = "Log the demo's MLflow history on a running server (once) and sync it into the demo project."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tracking-uri", required=True, help="URL of the running MLflow server.")
        parser.add_argument("--project", default="churn-forecast", help="Slug of the project to connect.")
        parser.add_argument("--wait", type=float, default=0, help="Seconds to wait for the server's /health.")

    def handle(self, *args: Any, **options: Any) -> None:
        uri = options["tracking_uri"].rstrip("/")
        if importlib.util.find_spec("mlflow") is None:
            self.stdout.write(
                self.style.WARNING(
                    f"{PREFIX} needs the optional mlflow package (make run installs it); skipped. "
                    "Everything else works without it: connect a real MLflow server from a project page."
                )
            )
            return
        if not wait_for_health(uri, options["wait"]):
            raise CommandError(f"{PREFIX} the MLflow server at {uri} does not answer /health.")
        # In the embedded mode the sync runs as an eager Celery task: its INFO lines and kombu's warning
        # about a broker URL without a host say nothing to someone starting the demo.
        for name in ("celery", "kombu", "mlaudit.task"):
            logging.getLogger(name).setLevel(logging.ERROR)
        started = time.monotonic()
        fresh = demo.seed(uri)
        if fresh:
            self.stdout.write(f"{PREFIX} logged nine weeks of runs and five model versions ({_since(started)}).")
        project = Project.objects.filter(slug=options["project"]).select_related("team").first()
        if project is None:
            self.stdout.write(self.style.WARNING(f"{PREFIX} no project '{options['project']}' (run seed_demo)."))
            return
        if demo.demo_manager(project) is None:
            raise CommandError(f"{PREFIX} the team of '{project.slug}' has no manager to act as.")
        connection = demo.connect(project, uri, fresh=fresh, auth=_auth_from_environment())
        try:
            demo.sync(connection)
            if fresh:  # a second sync after the release, so the alias history shows challenger → champion
                demo.release(uri)
                demo.sync(connection)
        except RuntimeError as exc:
            raise CommandError(f"{PREFIX} {exc}") from None
        passes = Finding.objects.filter(connection=connection, result=FindingResult.PASS)
        automated = passes.filter(suggested_status="automated").count()
        self.stdout.write(
            self.style.SUCCESS(
                f"{PREFIX} '{project.name}' synced: {passes.count()} items backed by MLflow ({automated} automated); "
                f"its links open the MLflow UI at {uri}/ ({_since(started)})."
            )
        )


def _auth_from_environment() -> dict[str, str] | None:
    """A server with MLflow's basic auth: the credentials MLflow's own client read for seeding
    (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD) are the connection's too."""
    username, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if username and password:
        return {"type": "basic", "username": username, "password": password}
    return None


def _since(started: float) -> str:
    return f"{time.monotonic() - started:.0f} s"
