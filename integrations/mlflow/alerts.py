"""An MLflow connection whose syncs keep failing tells the team (the source_failing notification)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from audits.models import NotificationEvent
from audits.notifications import notify
from integrations.mlflow.models import SyncRun, SyncState

# This many finished syncs of a connection failing in a row make it "failing" (issue 15: three times).
SOURCE_FAILING_AFTER = 3


def source_failing_check(*, sync_id: int) -> bool:
    """After a sync failed: notify once per failing streak when the connection's last SOURCE_FAILING_AFTER
    finished syncs all failed. The streak's first failed sync names the event, so later failures of the
    same streak send nothing more, and a success starts a new streak. True if the team was notified."""
    sync = SyncRun.objects.select_related("connection__project__team").filter(pk=sync_id).first()
    if sync is None:
        return False
    finished = SyncRun.objects.filter(
        connection_id=sync.connection_id, state__in=(SyncState.SUCCEEDED, SyncState.FAILED)
    ).order_by("-finished_at", "-pk")
    latest = list(finished.values_list("pk", "state", "error")[:SOURCE_FAILING_AFTER])
    if len(latest) < SOURCE_FAILING_AFTER or any(state != SyncState.FAILED for _pk, state, _e in latest):
        return False
    last_success = finished.filter(state=SyncState.SUCCEEDED).values_list("finished_at", flat=True).first()
    streak = finished.filter(state=SyncState.FAILED)
    if last_success is not None:
        streak = streak.filter(finished_at__gt=last_success)
    first = streak.order_by("finished_at", "pk").values_list("pk", flat=True).first()
    connection = sync.connection
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            event=NotificationEvent.SOURCE_FAILING,
            project=connection.project,
            key=f"mlflow-connection:{connection.pk}:failing-since-sync:{first}",
            context={
                "title": _("{project}: the MLflow connection {name} failed {count} times in a row").format(
                    project=connection.project.name, name=connection.name, count=SOURCE_FAILING_AFTER
                ),
                "lines": [_("Last error: {error}").format(error=latest[0][2] or "—")],
                "url": reverse("audits:project-detail", args=[connection.project.slug]),
                "source": "mlflow",
                "connection": connection.pk,
                "syncs": [pk for pk, _state, _error in latest],
            },
        )
    return True
