"""Reads for MLflow evidence pages, the API and the questionnaire."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from audits.models import Audit, Project, Role
from audits.selectors import audit_status_map, has_role, visible_projects
from audits.types import Actor
from evidence.sources import EvidenceFinding, snapshot_key
from integrations.mlflow.models import ACTIVE_SYNC_STATES, AcceptedFinding, Finding, MlflowConnection, SyncRun
from integrations.mlflow.ruleset import RULES
from rubric.models import Item
from rubric.scoring import NOT_DONE, points_for, score_answers
from rubric.selectors import default_rubric, rubric_spec


def connections_for_project(*, project: Project) -> QuerySet[MlflowConnection]:
    return MlflowConnection.objects.filter(project=project).order_by("name", "pk")


def connection_for_user(*, user: Actor, connection_id: int) -> MlflowConnection:
    from django.http import Http404

    connection = (
        MlflowConnection.objects.select_related("project__team")
        .filter(pk=connection_id, project__in=visible_projects(user=user))
        .first()
    )
    if connection is None:
        raise Http404("No such connection.")
    return connection


def webhook_url(*, request: Any, connection: MlflowConnection) -> str:
    """The absolute address MLflow should deliver this connection's registry events to."""
    from django.urls import reverse

    return str(request.build_absolute_uri(reverse("mlflow:webhook", args=[connection.webhook_token])))


def sync_for_user(*, user: Actor, sync_id: int) -> SyncRun:
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


def evidence_findings(project: Project) -> list[EvidenceFinding]:
    """The latest MLflow finding per item, in the shape every evidence source shares."""
    return [
        EvidenceFinding(
            item=code,
            source="mlflow",
            result=f.result,
            suggested_status=f.suggested_status,
            reason=f.localized_reason,
            observed_at=f.synced_at,
            links=list(f.links),
            facts=f.facts,
            origin={"connection": f.connection_id, "sync": f.sync_id, "synced_at": f.synced_at.isoformat()},
        )
        for code, f in sorted(latest_findings(project=project).items())
    ]


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


def can_manage(*, user: Actor, project: Project) -> bool:
    return has_role(user=user, team=project.team, at_least=Role.MANAGER)


def can_accept(*, user: Actor, audit: Audit) -> bool:
    return not audit.is_submitted and has_role(user=user, team=audit.project.team, at_least=Role.EDITOR)


# What accepting a finding would change -------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptPreview:
    """The answer's status before and after accepting the finding, the section and final scores before and
    after, and the item's last acceptance (who, when, and whether it was this very finding)."""

    item_code: str
    current: str | None  # None: not answered yet
    suggested: str
    points_before: Decimal
    points_after: Decimal
    section_key: str
    section_before: Decimal
    section_after: Decimal
    final_before: Decimal
    final_after: Decimal
    accepted: AcceptedFinding | None
    finding_key: tuple[str, Any]

    @property
    def changes_status(self) -> bool:
        return (self.current or NOT_DONE) != self.suggested

    @property
    def lowers(self) -> bool:
        return self.points_after < self.points_before

    @property
    def accepted_this(self) -> bool:
        """The last acceptance copied the finding as it is now (from the same sync or report)."""
        return self.accepted is not None and snapshot_key(self.accepted.snapshot) == self.finding_key


def latest_acceptances(*, audit_ids: list[int]) -> dict[str, dict[str, Any]]:
    """item code → the provenance of the latest acceptance into the answers of these audits, in one query."""
    rows = (
        AcceptedFinding.objects.filter(answer__audit_id__in=audit_ids)
        .order_by("item_code", "-accepted_at", "-pk")
        .values(
            "item_code", "source", "accepted_status", "observed_at", "model_name", "model_alias", "model_version",
            "connection_id",
        )
    )  # fmt: skip
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        latest.setdefault(row["item_code"], dict(row))
    return latest


def accepted_by_item(*, audit: Audit) -> dict[str, AcceptedFinding]:
    """item code → the latest acceptance of a finding into this audit's answers, in one query."""
    latest: dict[str, AcceptedFinding] = {}
    rows = (
        AcceptedFinding.objects.filter(answer__audit=audit)
        .select_related("accepted_by")
        .order_by("item_code", "-accepted_at", "-pk")
    )
    for accepted in rows:
        latest.setdefault(accepted.item_code, accepted)
    return latest


def accept_preview(
    *,
    audit: Audit,
    finding: Finding | EvidenceFinding,
    status_map: dict[str, str] | None = None,
    accepted: dict[str, AcceptedFinding] | None = None,
) -> AcceptPreview | None:
    """What accepting this passing finding would change; None when it cannot be accepted.

    Pages pass the audit's status map and acceptances, read once, so a questionnaire costs no query per item.
    """
    if not finding.suggested_status:
        return None
    statuses = audit_status_map(audit=audit) if status_map is None else status_map
    spec = rubric_spec(audit.rubric)
    section = next((s for s in spec.sections if finding.item_code in s.item_codes), None)
    if section is None:
        return None
    before = score_answers(spec, statuses)
    after = score_answers(spec, {**statuses, finding.item_code: finding.suggested_status})
    acceptances = accepted_by_item(audit=audit) if accepted is None else accepted
    current = statuses.get(finding.item_code)
    return AcceptPreview(
        item_code=finding.item_code,
        current=current,
        suggested=finding.suggested_status,
        points_before=points_for(spec, current),
        points_after=points_for(spec, finding.suggested_status),
        section_key=section.key,
        section_before=before.section(section.key).score,
        section_after=after.section(section.key).score,
        final_before=before.final,
        final_after=after.final,
        accepted=acceptances.get(finding.item_code),
        finding_key=finding.key if isinstance(finding, EvidenceFinding) else ("mlflow", finding.sync_id),
    )
