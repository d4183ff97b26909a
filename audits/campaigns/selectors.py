"""Reads for campaigns: who sees which, the projects in scope, and each one's progress to the target.

Visibility: staff see every campaign; others see those naming a team they belong to, and tag-only
campaigns with a project they can see. Each campaign page shows only the scope's projects the user sees.
Every function runs a fixed number of queries, whatever the number of projects and audits.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from audits.campaigns.targets import Target, target_of
from audits.exemptions.rules import counted_status, score_day
from audits.models import Answer, Audit, AuditStatus, Campaign, Membership, Project, Tag
from audits.selectors import next_audit_due, visible_projects
from audits.types import Actor, User
from rubric.planning import Plan, next_steps
from rubric.selectors import rubric_spec


def _is_staff(user: Actor) -> bool:
    return bool(user.is_active and user.is_staff)


def visible_campaigns(*, user: Actor) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("rubric")
    if _is_staff(user):
        return campaigns
    if not isinstance(user, User):
        return campaigns.none()
    member_of = Membership.objects.filter(user=user).values("team_id")
    names_my_team = Exists(Campaign.teams.through.objects.filter(campaign_id=OuterRef("pk"), team_id__in=member_of))
    has_teams = Exists(Campaign.teams.through.objects.filter(campaign_id=OuterRef("pk")))
    tags_my_project = Exists(
        Tag.projects.through.objects.filter(
            tag__campaigns=OuterRef("pk"), project__team_id__in=Membership.objects.filter(user=user).values("team_id")
        )
    )
    return campaigns.filter(names_my_team | (~has_teams & tags_my_project))


def campaign_for_user(*, user: Actor, campaign_id: int) -> Campaign:
    """The campaign if the user may see it; otherwise 404, so its existence is not revealed."""
    campaign = visible_campaigns(user=user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign


def scope_projects(*, campaign: Campaign, user: Actor | None) -> QuerySet[Project]:
    """The projects in the campaign's scope that the user sees (every one for user None, as the reminder
    task reads them): its teams (any when none) with any of its tags (any when none)."""
    projects = visible_projects(user=user) if user is not None else Project.objects.select_related("team")
    teams = Campaign.teams.through.objects.filter(campaign_id=campaign.pk)
    tags = Campaign.tags.through.objects.filter(campaign_id=campaign.pk)
    tagged = Tag.projects.through.objects.filter(project_id=OuterRef("pk"), tag_id__in=tags.values("tag_id"))
    return projects.filter(
        Q(~Exists(teams)) | Q(team_id__in=teams.values("team_id")),
        Q(~Exists(tags)) | Q(Exists(tagged)),
    )


def campaign_target(campaign: Campaign) -> Target:
    return target_of(rubric_spec(campaign.rubric), band_label=campaign.target_band, score=campaign.target_score)


MET, NOT_YET, OVERDUE = "met", "not_yet", "overdue"


@dataclass(frozen=True)
class ProjectProgress:
    project_id: int
    slug: str
    name: str
    team_slug: str
    team_name: str
    final: Decimal | None
    audit_id: int | None
    status: str  # MET, NOT_YET or OVERDUE
    plan: Plan
    audit_overdue: bool  # the project's own audit cadence, as on the portfolio

    @property
    def met(self) -> bool:
        return self.status == MET

    @property
    def next_steps_count(self) -> int | None:
        """How many answers must change to meet the target; None when no answers can reach it."""
        return len(self.plan.changes) if self.plan.reachable else None


@dataclass(frozen=True)
class TeamProgress:
    slug: str
    name: str
    projects: int
    met: int
    overdue: int
    median_final: Decimal | None


@dataclass(frozen=True)
class Progress:
    campaign: Campaign
    target: Target
    today: date
    projects: list[ProjectProgress]
    teams: list[TeamProgress]
    burnup: list[tuple[date, int]]  # (day, projects meeting the target at its end), from the start to today

    @property
    def total(self) -> int:
        return len(self.projects)

    @property
    def met(self) -> int:
        return sum(1 for row in self.projects if row.met)

    @property
    def days_left(self) -> int:
        return (self.campaign.due_on - self.today).days


def campaign_progress(*, campaign: Campaign, user: Actor | None, today: date | None = None) -> Progress:
    """Each project in scope with its latest submitted score, status and next steps; per team; the burn-up.

    Three queries: the projects, the answers of their latest submitted audits, and their submitted audits'
    finals (for the burn-up); the rubric's scoring spec is cached per process."""
    today = today or timezone.localdate()
    spec = rubric_spec(campaign.rubric)
    target = campaign_target(campaign)
    now = timezone.now()
    rows = list(
        scope_projects(campaign=campaign, user=user)
        .order_by("name", "pk")
        .values_list(
            "pk",
            "slug",
            "name",
            "team__slug",
            "team__name",
            "last_audit_id",
            "last_audit_final",
            "last_audit_at",
            "created_at",
            "audit_cadence_days",
        )
    )
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    audit_ids = [row[5] for row in rows if row[5] is not None]
    for audit_id, code, status, state, expires_on, submitted_at in (
        Answer.objects.filter(audit_id__in=audit_ids)
        .order_by()
        .values_list("audit_id", "item__code", "status", "exemption_state", "expires_on", "audit__submitted_at")
    ):
        # Counted statuses: an exemption only when it counted on the audit's day (audits.exemptions.rules).
        answers[audit_id][code] = counted_status(status, state, expires_on, score_day(submitted_at=submitted_at))
    projects = []
    for pk, slug, name, team_slug, team_name, audit_id, final, last_at, created_at, cadence in rows:
        met = target.met(final)
        status = MET if met else OVERDUE if today > campaign.due_on else NOT_YET
        plan = next_steps(spec, answers.get(audit_id, {}) if audit_id else {}, target.for_planner)
        due_at = next_audit_due(last_audit_at=last_at, created_at=created_at, cadence_days=cadence)
        projects.append(
            ProjectProgress(pk, slug, name, team_slug, team_name, final, audit_id, status, plan, due_at < now)
        )
    return Progress(
        campaign=campaign,
        target=target,
        today=today,
        projects=projects,
        teams=_per_team(projects),
        burnup=_burnup(campaign, target, [row[0] for row in rows], today),
    )


def median(values: Sequence[Decimal]) -> Decimal | None:
    """The median final score (the mean of the two middle ones for an even count); None for no scores."""
    return Decimal(statistics.median(values)) if values else None


def _per_team(projects: list[ProjectProgress]) -> list[TeamProgress]:
    by_team: dict[tuple[str, str], list[ProjectProgress]] = defaultdict(list)
    for row in projects:
        by_team[(row.team_slug, row.team_name)].append(row)
    return [
        TeamProgress(
            slug=slug,
            name=name,
            projects=len(rows),
            met=sum(1 for row in rows if row.met),
            overdue=sum(1 for row in rows if row.status == OVERDUE),
            median_final=median([row.final for row in rows if row.final is not None]),
        )
        for (slug, name), rows in sorted(by_team.items(), key=lambda entry: entry[0][1].lower())
    ]


def _burnup(campaign: Campaign, target: Target, project_ids: list[int], today: date) -> list[tuple[date, int]]:
    """Projects meeting the target at the end of each day with a submitted audit, from the start to today
    (or the due date): each project counts by its latest submitted audit up to that day."""
    end = min(today, campaign.due_on)
    if end < campaign.starts_on:
        return []
    audits = (
        Audit.objects.filter(project_id__in=project_ids, status=AuditStatus.SUBMITTED, submitted_at__isnull=False)
        .order_by("submitted_at", "pk")
        .values_list("project_id", "submitted_at", "final_score")
    )
    met: dict[int, bool] = {}
    points: dict[date, int] = {}
    count = before = 0
    for project_id, submitted_at, final in audits:
        day = timezone.localdate(submitted_at)  # type: ignore[arg-type]  # set for submitted audits
        if day > end:
            break
        now_met = target.met(final)
        count += int(now_met) - int(met.get(project_id, False))
        met[project_id] = now_met
        if day < campaign.starts_on:
            before = count
        else:
            points[day] = count
    series = [(campaign.starts_on, points.pop(campaign.starts_on, before))]
    series.extend(sorted(points.items()))
    if series[-1][0] < end:
        series.append((end, series[-1][1]))
    return series
