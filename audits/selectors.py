"""Reads for pages, API and tasks. Visibility rules live here and only here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from audits.models import ROLE_RANK, Answer, Audit, AuditStatus, Membership, Project, Role, Team
from rubric.scoring import BandSpec, ScoreResult, band_for, score_answers
from rubric.selectors import rubric_spec, rubric_spec_by_id

User = AbstractBaseUser | AnonymousUser


def _is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_staff", False))


def team_role(*, user: Any, team: Team) -> str | None:
    """The user's role in the team; staff act as managers everywhere."""
    if _is_staff(user):
        return Role.MANAGER
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()


def has_role(*, user: Any, team: Team, at_least: str) -> bool:
    role = team_role(user=user, team=team)
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(at_least)]


def visible_teams(*, user: Any) -> QuerySet[Team]:
    if _is_staff(user):
        return Team.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def visible_projects(*, user: Any) -> QuerySet[Project]:
    if _is_staff(user):
        return Project.objects.select_related("team")
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    return Project.objects.filter(team__memberships__user=user).select_related("team")


def project_for_user(*, user: Any, slug: str) -> Project:
    """The project if the user may see it; otherwise 404, so its existence is not revealed."""
    project = visible_projects(user=user).filter(slug=slug).first()
    if project is None:
        raise Http404("No such project.")
    return project


def audit_for_user(*, user: Any, audit_id: int) -> Audit:
    projects = visible_projects(user=user)
    audit = (
        Audit.objects.select_related("project__team", "rubric", "created_by", "submitted_by")
        .filter(pk=audit_id, project__in=projects)
        .first()
    )
    if audit is None:
        raise Http404("No such audit.")
    return audit


def with_latest_scores(projects: QuerySet[Project]) -> QuerySet[Project]:
    """Annotate each project with its latest submitted audit (id, final, band, date) in the same query."""
    latest = Audit.objects.filter(project=OuterRef("pk"), status=AuditStatus.SUBMITTED).order_by("-submitted_at", "-pk")
    return projects.annotate(
        latest_audit_id=Subquery(latest.values("pk")[:1]),
        latest_final=Subquery(latest.values("final_score")[:1]),
        latest_band=Subquery(latest.values("band_label")[:1]),
        latest_submitted_at=Subquery(latest.values("submitted_at")[:1]),
    )


def audit_answers(*, audit: Audit) -> list[Answer]:
    return list(audit.answers.select_related("item", "answered_by"))


def audit_status_map(*, audit: Audit) -> dict[str, str]:
    return dict(audit.answers.values_list("item__code", "status"))


def audit_score(*, audit: Audit, status_map: dict[str, str] | None = None) -> ScoreResult:
    """The audit's score from its answers (a submitted audit's answers are frozen)."""
    if status_map is None:
        status_map = audit_status_map(audit=audit)
    return score_answers(rubric_spec(audit.rubric), status_map)


def latest_submitted_audit(*, project: Project) -> Audit | None:
    return (
        project.audits.filter(status=AuditStatus.SUBMITTED)
        .select_related("rubric")
        .order_by("-submitted_at", "-pk")
        .first()
    )


# Portfolio and trends --------------------------------------------------------


@dataclass(frozen=True)
class PortfolioRow:
    project: Project
    latest_audit_id: int | None
    final: Decimal | None
    band: BandSpec | None
    previous_final: Decimal | None
    last_audit_at: datetime | None
    due_at: datetime
    overdue: bool

    @property
    def change(self) -> Decimal | None:
        if self.final is None or self.previous_final is None:
            return None
        return self.final - self.previous_final


def portfolio_queryset(*, user: Any) -> QuerySet[Project]:
    """Visible projects with their latest and previous submitted audits, in one query."""
    submitted = Audit.objects.filter(project=OuterRef("pk"), status=AuditStatus.SUBMITTED).order_by(
        "-submitted_at", "-pk"
    )
    return with_latest_scores(visible_projects(user=user)).annotate(
        latest_rubric_id=Subquery(submitted.values("rubric_id")[:1]),
        previous_final=Subquery(submitted.values("final_score")[1:2]),
    )


def portfolio_rows(*, user: Any, projects: QuerySet[Project] | None = None) -> list[PortfolioRow]:
    """One row per visible project; `projects` may be a filtered portfolio_queryset."""
    if projects is None:
        projects = portfolio_queryset(user=user)
    now = timezone.now()
    rows = []
    for project in projects:
        last_at = project.latest_submitted_at  # type: ignore[attr-defined]
        due_at = (last_at or project.created_at) + timedelta(days=project.audit_cadence_days)
        final = project.latest_final  # type: ignore[attr-defined]
        rubric_id = project.latest_rubric_id  # type: ignore[attr-defined]
        rows.append(
            PortfolioRow(
                project=project,
                latest_audit_id=project.latest_audit_id,  # type: ignore[attr-defined]
                final=final,
                band=band_for(rubric_spec_by_id(rubric_id).bands, final) if final is not None else None,
                previous_final=project.previous_final,  # type: ignore[attr-defined]
                last_audit_at=last_at,
                due_at=due_at,
                overdue=due_at < now,
            )
        )
    return rows


@dataclass(frozen=True)
class TrendPoint:
    audit_id: int
    submitted_at: datetime
    submitted_by: str
    final: Decimal
    sections: dict[str, float]


def project_trend(*, project: Project) -> list[TrendPoint]:
    """The frozen scores of the project's submitted audits, oldest first, in one query."""
    audits = (
        Audit.objects.filter(project=project, status=AuditStatus.SUBMITTED)
        .select_related("submitted_by")
        .order_by("submitted_at", "pk")
        .only("pk", "submitted_at", "final_score", "section_scores", "submitted_by__username")
    )
    return [
        TrendPoint(
            audit_id=audit.pk,
            submitted_at=audit.submitted_at,  # type: ignore[arg-type]
            submitted_by=audit.submitted_by.get_username() if audit.submitted_by else "",
            final=audit.final_score if audit.final_score is not None else Decimal(0),
            sections=dict(audit.section_scores),
        )
        for audit in audits
    ]
