"""Reads for stale answers and the live score (the rules themselves are pure: evidence.staleness).

An answer rests on evidence when someone accepted a finding into it (integrations.mlflow.models.AcceptedFinding)
in this audit or in an audit it was carried over from, and its status is still the level accepted. Each read
costs a fixed number of queries whatever the number of answers, acceptances or audits in the chain: the
project's audit chain, the acceptances, every source's current findings, the alias maps of their syncs and
the alias map now (only the first two when nothing rests on evidence).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from audits.dashboards.selectors import rubric_labels
from audits.models import Audit, Project, Team
from audits.selectors import audit_status_map
from evidence.sources import SOURCE_LABELS, EvidenceFinding, project_findings
from evidence.staleness import Basis, Latest, Staleness, Windows, assess
from integrations.mlflow.selectors import latest_acceptances
from integrations.mlflow.serving import current_aliases, sync_aliases, version_for
from rubric.models import status_label
from rubric.scoring import ScoreResult, score_answers
from rubric.selectors import rubric_spec


def windows_for(project: Project) -> Windows:
    return Windows(automated_days=project.evidence_fresh_days_automated, manual_days=project.evidence_fresh_days_manual)


def _chain(audit: Audit) -> list[int]:
    """The audit and the audits its answers were carried over from, newest first (one query)."""
    parents = dict(Audit.objects.filter(project_id=audit.project_id).values_list("pk", "copied_from_id"))
    chain: list[int] = []
    current: int | None = audit.pk
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


@dataclass(frozen=True)
class Accepted:
    basis: Basis
    connection_id: int | None


def bases(*, audit: Audit, statuses: dict[str, str]) -> dict[str, Accepted]:
    """item code → the acceptance the answer still rests on (its latest, if the status is still its level)."""
    found: dict[str, Accepted] = {}
    for code, row in latest_acceptances(audit_ids=_chain(audit)).items():
        level = row["accepted_status"]
        if level and statuses.get(code) == level:
            basis = Basis(
                code, row["source"], level, row["observed_at"], row["model_name"], row["model_alias"],
                row["model_version"],
            )  # fmt: skip
            found[code] = Accepted(basis, row["connection_id"])
    return found


def _latest(finding: EvidenceFinding, basis: Basis, aliases_by_sync: dict[int, Any]) -> Latest:
    version = None
    sync = finding.origin.get("sync")
    if basis.version is not None and sync is not None:
        version = version_for(aliases_by_sync.get(sync, {}), model_name=basis.model_name, alias=basis.alias)
    return Latest(
        result=finding.result, level=finding.suggested_status, observed_at=finding.observed_at, version=version
    )


def answer_staleness(
    *, audit: Audit, statuses: dict[str, str] | None = None, now: datetime | None = None
) -> dict[str, Staleness]:
    """item code → the assessment of each answer that rests on evidence (stale or not)."""
    statuses = audit_status_map(audit=audit) if statuses is None else statuses
    accepted = bases(audit=audit, statuses=statuses)
    if not accepted:
        return {}
    now = now or timezone.now()
    findings = {(f.item, f.source): f for f in project_findings(audit.project)}
    aliases_by_sync = sync_aliases(
        f.origin["sync"] for f in findings.values() if f.source == "mlflow" and f.origin.get("sync") is not None
    )
    serving = current_aliases(a.connection_id for a in accepted.values() if a.connection_id is not None)
    windows = windows_for(audit.project)
    result = {}
    for code, entry in accepted.items():
        basis = entry.basis
        finding = findings.get((code, basis.source))
        serving_now = basis.version
        if basis.version is not None and entry.connection_id in serving:
            serving_now = version_for(serving[entry.connection_id], model_name=basis.model_name, alias=basis.alias)
        result[code] = assess(
            basis,
            _latest(finding, basis, aliases_by_sync) if finding is not None else None,
            serving_now=serving_now,
            windows=windows,
            now=now,
            source_label=SOURCE_LABELS.get(basis.source, basis.source),
        )
    return result


def stale_answers(
    *, audit: Audit, statuses: dict[str, str] | None = None, now: datetime | None = None
) -> dict[str, Staleness]:
    """item code → assessment, only the stale ones."""
    return {code: s for code, s in answer_staleness(audit=audit, statuses=statuses, now=now).items() if s.stale}


# The live score ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleItem:
    code: str
    title: str
    status: str  # as answered
    supported: str  # what the current evidence still supports (counted in the live score)
    reason: str
    staleness: Staleness

    @property
    def status_label(self) -> str:
        return status_label(self.status, short=True)

    @property
    def supported_label(self) -> str:
        return status_label(self.supported, short=True)


@dataclass(frozen=True)
class LiveScore:
    """The last submitted audit's score, and the same answers with each stale one replaced by what the
    current evidence still supports."""

    project: Project
    audit: Audit
    audited: ScoreResult
    audited_final: Decimal
    live: ScoreResult
    stale: list[StaleItem]

    @property
    def final(self) -> Decimal:
        return self.live.final

    @property
    def dropped(self) -> bool:
        return self.live.final < self.audited_final


def live_score(project: Project, *, now: datetime | None = None) -> LiveScore | None:
    """None before the first submitted audit. A fixed number of queries (see the module docstring)."""
    if project.last_audit_id is None:
        return None
    audit = Audit.objects.select_related("rubric", "project").filter(pk=project.last_audit_id).first()
    if audit is None:
        return None
    statuses = audit_status_map(audit=audit)
    stale = stale_answers(audit=audit, statuses=statuses, now=now)
    spec = rubric_spec(audit.rubric)
    audited = score_answers(spec, statuses)
    live = score_answers(spec, {**statuses, **{code: s.supported for code, s in stale.items()}})
    titles = {item.code: item.localized("title") for item in rubric_labels(audit.rubric).items}
    order = {code: index for index, code in enumerate(c for section in spec.sections for c in section.item_codes)}
    items = [
        StaleItem(code, str(titles.get(code, code)), s.status, s.supported, s.reason, s)
        for code, s in sorted(stale.items(), key=lambda entry: order.get(entry[0], 999))
    ]
    final = audit.final_score if audit.final_score is not None else audited.final
    return LiveScore(project, audit, audited, Decimal(final), live, items)


def stale_answers_for_team(team: Team, *, now: datetime | None = None) -> list[LiveScore]:
    """Each of the team's projects whose last submitted audit has stale answers, with its live score.

    For the weekly digest: the same fixed queries per project (a team has tens of projects, not thousands).
    """
    found = []
    for project in Project.objects.filter(team=team, last_audit__isnull=False).order_by("name", "pk"):
        score = live_score(project, now=now)
        if score is not None and score.stale:
            found.append(score)
    return found
