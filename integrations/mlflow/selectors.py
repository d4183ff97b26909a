"""Reads for MLflow evidence pages, the API and the questionnaire."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from audits.models import Audit, Project, Role
from audits.selectors import has_role, visible_projects
from integrations.mlflow.models import ACTIVE_SYNC_STATES, Finding, MlflowConnection, SyncRun
from integrations.mlflow.rules import RULES
from rubric.models import Item
from rubric.selectors import default_rubric


def connections_for_project(*, project: Project) -> QuerySet[MlflowConnection]:
    return MlflowConnection.objects.filter(project=project).order_by("name", "pk")


def connection_for_user(*, user: Any, connection_id: int) -> MlflowConnection:
    from django.http import Http404

    connection = (
        MlflowConnection.objects.select_related("project__team")
        .filter(pk=connection_id, project__in=visible_projects(user=user))
        .first()
    )
    if connection is None:
        raise Http404("No such connection.")
    return connection


def sync_for_user(*, user: Any, sync_id: int) -> SyncRun:
    from django.http import Http404

    sync = (
        SyncRun.objects.select_related("connection", "project__team", "requested_by")
        .filter(pk=sync_id, project__in=visible_projects(user=user))
        .first()
    )
    if sync is None:
        raise Http404("No such sync.")
    return sync


def syncs_for_project(*, project: Project, limit: int = 20) -> list[SyncRun]:
    return list(
        SyncRun.objects.filter(project=project)
        .select_related("connection", "requested_by")
        .order_by("-queued_at", "-pk")[:limit]
    )


def project_has_active_sync(*, project: Project) -> bool:
    return SyncRun.objects.filter(project=project, state__in=ACTIVE_SYNC_STATES).exists()


def latest_findings(*, project: Project) -> dict[str, Finding]:
    """The latest finding per item across the project's connections (newest sync wins), in one query."""
    findings: dict[str, Finding] = {}
    rows = (
        Finding.objects.filter(project=project).select_related("connection").order_by("item_code", "-synced_at", "-pk")
    )
    for finding in rows:
        findings.setdefault(finding.item_code, finding)
    return findings


def findings_for_audit(*, audit: Audit) -> dict[str, Finding]:
    """item code → latest finding for the audit's project, in one query whatever the number of items."""
    return latest_findings(project=audit.project)


def item_titles() -> dict[str, str]:
    """Titles (in the active language) of the default rubric's items, by code."""
    rubric = default_rubric()
    if rubric is None:
        return {}
    return {item.code: str(item.localized("title")) for item in Item.objects.filter(rubric=rubric)}


def how_to(item_code: str) -> str:
    registered = RULES.get(item_code)
    return str(registered.how_to) if registered else ""


def how_to_example(item_code: str) -> str:
    """A short example, with MLflow's own API, of logging what the item's rule reads."""
    registered = RULES.get(item_code)
    return registered.example if registered else ""


def can_manage(*, user: Any, project: Project) -> bool:
    return has_role(user=user, team=project.team, at_least=Role.MANAGER)


def can_accept(*, user: Any, audit: Audit) -> bool:
    return not audit.is_submitted and has_role(user=user, team=audit.project.team, at_least=Role.EDITOR)


def sync_state_json(sync: SyncRun) -> dict[str, Any]:
    return {
        "id": sync.pk,
        "connection": sync.connection_id,
        "state": sync.state,
        "trigger": sync.trigger,
        "requested_by": sync.requested_by.get_username() if sync.requested_by else None,
        "queued_at": sync.queued_at.isoformat() if sync.queued_at else None,
        "started_at": sync.started_at.isoformat() if sync.started_at else None,
        "finished_at": sync.finished_at.isoformat() if sync.finished_at else None,
        "duration_seconds": sync.duration_seconds,
        "attempts": sync.attempts,
        "runs_read": sync.runs_read,
        "versions_read": sync.versions_read,
        "findings": sync.findings_written,
        "error_kind": sync.error_kind or None,
        "error": sync.error or None,
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "item": finding.item_code,
        "result": finding.result,
        "reason": finding.localized_reason,
        "links": list(finding.links),
        "suggested_status": finding.suggested_status or None,
        "synced_at": finding.synced_at.isoformat(),
        "connection": finding.connection_id,
        "facts": finding.facts,
    }
