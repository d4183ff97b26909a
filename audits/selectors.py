"""Reads for pages, API and tasks. Visibility rules live here and only here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from audits.exemptions.rules import audit_score_day, counted_status, score_day
from audits.models import ROLE_RANK, Answer, AnswerChange, Audit, AuditStatus, Membership, Project, Role, Team
from audits.types import Actor, User
from rubric.scoring import BandSpec, RubricSpec, ScoreResult, band_for, score_answers
from rubric.selectors import rubric_reference, rubric_spec


def _is_staff(user: Actor) -> bool:
    return bool(user.is_active and user.is_staff)


def team_role(*, user: Actor, team: Team) -> str | None:
    """The user's role in the team; staff act as managers everywhere."""
    if _is_staff(user):
        return Role.MANAGER
    if not isinstance(user, User):
        return None
    return Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()


def has_role(*, user: Actor, team: Team, at_least: str) -> bool:
    role = team_role(user=user, team=team)
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(at_least)]


def visible_teams(*, user: Actor) -> QuerySet[Team]:
    if _is_staff(user):
        return Team.objects.all()
    if not isinstance(user, User):
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def visible_projects(*, user: Actor) -> QuerySet[Project]:
    if _is_staff(user):
        return Project.objects.select_related("team")
    if not isinstance(user, User):
        return Project.objects.none()
    return Project.objects.filter(team__memberships__user=user).select_related("team")


def project_for_user(*, user: Actor, slug: str) -> Project:
    """The project if the user may see it; otherwise 404, so its existence is not revealed."""
    project = visible_projects(user=user).filter(slug=slug).first()
    if project is None:
        raise Http404("No such project.")
    return project


def audit_for_user(*, user: Actor, audit_id: int) -> Audit:
    """The audit if the user may see it (else 404), with the user's role in its team read in the same
    query: the questionnaire and its saves need both, and `audit_role` then answers without a query."""
    staff = _is_staff(user)
    if not isinstance(user, User):  # staff are always signed in
        raise Http404("No such audit.")
    role = Membership.objects.filter(team_id=OuterRef("project__team_id"), user_id=user.pk).values("role")[:1]
    # By primary key, so no ORDER BY (first() would sort by Audit's default ordering on every call).
    found = (
        Audit.objects.select_related("project__team", "rubric", "created_by", "submitted_by")
        .annotate(member_role=Subquery(role))
        .filter(pk=audit_id)
        .order_by()
    )
    audit = next(iter(found), None)
    if audit is None or not (staff or audit.member_role):  # type: ignore[attr-defined]
        raise Http404("No such audit.")
    audit.role_read_for = (user.pk, Role.MANAGER if staff else audit.member_role)  # type: ignore[attr-defined]
    return audit


def audit_role(*, user: Actor, audit: Audit) -> str | None:
    """The user's role in the audit's team; read with the audit by audit_for_user, else looked up."""
    read = getattr(audit, "role_read_for", None)
    if read is not None and read[0] == user.pk:
        return read[1]  # type: ignore[no-any-return]
    return team_role(user=user, team=audit.project.team)


def has_audit_role(*, user: Actor, audit: Audit, at_least: str) -> bool:
    role = audit_role(user=user, audit=audit)
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(at_least)]


def with_latest_scores(projects: QuerySet[Project]) -> QuerySet[Project]:
    """Annotate each project with its latest submitted audit (id, final, band, date) in the same query.

    Read from the project's own columns (kept by audits.services.project_refresh_latest_audits); only the
    band label joins the latest audit, by primary key.
    """
    return projects.annotate(
        latest_audit_id=F("last_audit_id"),
        latest_final=F("last_audit_final"),
        latest_band=F("last_audit__band_label"),
        latest_submitted_at=F("last_audit_at"),
    )


def audit_answers(*, audit: Audit) -> list[Answer]:
    return list(audit.answers.select_related("item", "answered_by"))


def audit_status_map(*, audit: Audit) -> dict[str, str]:
    """{item code: counted status}: an exemption only when approved and not expired (exemptions.rules)."""
    day = audit_score_day(audit)
    rows = audit.answers.order_by().values_list("item__code", "status", "exemption_state", "expires_on")
    return {code: counted_status(status, state, expires_on, day) for code, status, state, expires_on in rows}


def audit_score(*, audit: Audit, status_map: dict[str, str] | None = None) -> ScoreResult:
    """The audit's score from its answers (a submitted audit's answers are frozen). A given `status_map`
    holds counted statuses (audits.exemptions.rules.counted_statuses)."""
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


def open_drafts(*, project: Project) -> QuerySet[Audit]:
    return project.audits.filter(status=AuditStatus.DRAFT).order_by("-created_at", "-pk")


def team_project_named(*, team: Team, name: str) -> Project | None:
    """A project of the team with this name, ignoring case and surrounding spaces (a likely duplicate)."""
    return team.projects.filter(name__iexact=name.strip()).first()


# Portfolio and trends --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortfolioRow:
    """One visible project's latest scores: enough to count, filter, sort, page and show a large portfolio.

    Built from plain values in one query, without model instances, so a thousand projects stay cheap.
    """

    project_id: int
    name: str
    slug: str
    team_id: int
    team_slug: str
    team_name: str
    rubric_id: int | None
    latest_audit_id: int | None
    final: Decimal | None
    band: BandSpec | None
    previous_final: Decimal | None
    last_audit_at: datetime | None
    due_at: datetime
    overdue: bool
    # The latest audit's final with exemptions counted as not done, and how many exemptions its final includes.
    final_strict: Decimal | None = None
    exempted: int = 0

    @property
    def change(self) -> Decimal | None:
        if self.final is None or self.previous_final is None:
            return None
        return self.final - self.previous_final


def portfolio_queryset(*, user: Actor) -> QuerySet[Project]:
    """Visible projects with their latest and previous submitted audits, in one query."""
    return with_latest_scores(visible_projects(user=user)).annotate(
        latest_rubric_id=F("last_audit__rubric_id"),
        # With the id, the key of the per-process rubric cache: rows need no query for their rubric.
        latest_rubric_hash=F("last_audit__rubric__content_hash"),
        previous_final=F("previous_audit_final"),
        # The same join as the band label: exemptions are frozen on the audit at submit.
        latest_final_strict=F("last_audit__final_strict_score"),
        latest_exempted=F("last_audit__exempted_count"),
    )


def next_audit_due(*, last_audit_at: datetime | None, created_at: datetime, cadence_days: int) -> datetime:
    """A project's next audit is due its cadence after the last submitted audit (or after its creation)."""
    return (last_audit_at or created_at) + timedelta(days=cadence_days)


def portfolio_rows(*, user: Actor, projects: QuerySet[Project] | None = None) -> list[PortfolioRow]:
    """One row per visible project, in one query; `projects` may be a filtered portfolio_queryset.

    The API and the portfolio page both read their rows here, so bands, changes and due dates agree.
    """
    if projects is None:
        projects = portfolio_queryset(user=user)
    now = timezone.now()
    specs: dict[int, RubricSpec] = {}
    bands: dict[tuple[int, Decimal], BandSpec | None] = {}
    rows = []
    values = projects.values_list(  # type: ignore[misc]  # annotations of portfolio_queryset
        "pk",
        "name",
        "slug",
        "team_id",
        "team__slug",
        "team__name",
        "created_at",
        "audit_cadence_days",
        "latest_audit_id",
        "latest_final",
        "latest_submitted_at",
        "latest_rubric_id",
        "latest_rubric_hash",
        "previous_final",
        "latest_final_strict",
        "latest_exempted",
    )
    for (
        pk,
        name,
        slug,
        team_id,
        team_slug,
        team_name,
        created_at,
        cadence,
        audit_id,
        final,
        last_at,
        rubric_id,
        rubric_hash,
        previous,
        final_strict,
        exempted,
    ) in values:
        band = None
        if final is not None and rubric_id is not None:
            # Finals take a handful of values (half points), so each band is looked up once per request.
            if (rubric_id, final) not in bands:
                if rubric_id not in specs:
                    specs[rubric_id] = rubric_spec(rubric_reference(rubric_id=rubric_id, content_hash=rubric_hash))
                bands[(rubric_id, final)] = band_for(specs[rubric_id].bands, final)
            band = bands[(rubric_id, final)]
        due_at = next_audit_due(last_audit_at=last_at, created_at=created_at, cadence_days=cadence)
        rows.append(
            PortfolioRow(
                project_id=pk,
                name=name,
                slug=slug,
                team_id=team_id,
                team_slug=team_slug,
                team_name=team_name,
                rubric_id=rubric_id,
                latest_audit_id=audit_id,
                final=final,
                band=band,
                previous_final=previous,
                last_audit_at=last_at,
                due_at=due_at,
                overdue=due_at < now,
                final_strict=final if final_strict is None else final_strict,
                exempted=exempted or 0,
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
    rubric_id: int
    rubric_content_hash: str  # with rubric_id, the key of the per-process rubric caches
    final_strict: Decimal = Decimal(0)  # exemptions counted as not done
    exempted: int = 0  # exemptions the final includes


def project_trend(*, project: Project) -> list[TrendPoint]:
    """The frozen scores of the project's submitted audits, oldest first, in one query.

    Plain values rather than model instances: a project's whole history is read on every trend view.
    """
    rows = (
        Audit.objects.filter(project=project, status=AuditStatus.SUBMITTED)
        .order_by("submitted_at", "pk")
        .values_list(
            "pk",
            "submitted_at",
            "submitted_by__username",
            "final_score",
            "section_scores",
            "rubric_id",
            "rubric__content_hash",
            "final_strict_score",
            "exempted_count",
        )
    )
    return [
        TrendPoint(
            audit_id=audit_id,
            submitted_at=submitted_at,  # type: ignore[arg-type]  # set for every submitted audit
            submitted_by=username or "",
            final=final if final is not None else Decimal(0),
            sections=dict(sections),
            rubric_id=rubric_id,
            rubric_content_hash=content_hash,
            final_strict=strict if strict is not None else (final if final is not None else Decimal(0)),
            exempted=exempted,
        )
        for audit_id, submitted_at, username, final, sections, rubric_id, content_hash, strict, exempted in rows
    ]


# Browser pages -----------------------------------------------------------------


def managed_teams(*, user: Actor) -> QuerySet[Team]:
    """Teams in which the user may create projects and manage members."""
    if _is_staff(user):
        return Team.objects.all()
    if not isinstance(user, User):  # filtering by the anonymous user raised TypeError; it manages nothing
        return Team.objects.none()
    return visible_teams(user=user).filter(memberships__user=user, memberships__role=Role.MANAGER)


def project_list(*, user: Actor, search: str = "") -> QuerySet[Project]:
    """The user's projects, optionally filtered by a search term, with their latest scores."""
    projects = visible_projects(user=user)
    search = search.strip()
    if search:
        projects = projects.filter(
            Q(name__icontains=search)
            | Q(slug__icontains=search)
            | Q(description__icontains=search)
            | Q(team__name__icontains=search)
        )
    return with_latest_scores(projects).order_by("name", "pk")


def team_list(*, user: Actor) -> QuerySet[Team]:
    # Annotating through a fresh queryset: annotating visible_teams() directly would count only
    # the rows of its membership join, i.e. the user's own membership.
    return (
        Team.objects.filter(pk__in=visible_teams(user=user).values("pk"))
        .annotate(
            member_count=Count("memberships", distinct=True),
            project_count=Count("projects", distinct=True),
        )
        .order_by("name")
    )


def team_for_user(*, user: Actor, slug: str) -> Team:
    """The team if the user belongs to it (or is staff); otherwise 404."""
    team = visible_teams(user=user).filter(slug=slug).first()
    if team is None:
        raise Http404("No such team.")
    return team


def team_memberships(*, team: Team) -> QuerySet[Membership]:
    return team.memberships.select_related("user").order_by("user__username")


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("team").order_by("team__name")


def project_audits(*, project: Project) -> QuerySet[Audit]:
    return (
        project.audits.select_related("rubric", "created_by", "submitted_by")
        .annotate(answer_count=Count("answers"))
        .order_by("-created_at", "-pk")
    )


def audit_changes(*, audit: Audit) -> QuerySet[AnswerChange]:
    """Every recorded change of the audit's answers, newest first."""
    return (
        AnswerChange.objects.filter(answer__audit=audit)
        .select_related("answer__item__section", "changed_by")
        .order_by("-changed_at", "-pk")
    )


def item_changes(*, audit: Audit, item_code: str) -> QuerySet[AnswerChange]:
    return audit_changes(audit=audit).filter(answer__item__code=item_code)


@dataclass(frozen=True, slots=True)
class QuestionnaireAnswer:
    """One saved answer as the questionnaire shows it, with its history's size (plain values: the page
    reads every answer of the audit on each view)."""

    item_id: int
    status: str
    notes: str
    evidence: list[str]
    carried_over: bool
    version: int
    answered_by_id: int | None
    answered_by: str  # username, "" if unknown
    answered_at: datetime | None
    changes: int  # recorded changes of this answer
    changed_by_me: bool  # the user made at least one of them
    exemption_state: str = ""  # as stored (pending/approved/rejected); see exemptions.rules for "expired"
    expires_on: date | None = None
    exemption_requested_by_id: int | None = None
    decision_comment: str = ""


def questionnaire_answers(*, audit: Audit, user: Actor) -> dict[int, QuestionnaireAnswer]:
    """The audit's answers by item id, who saved them and how many changes each has, in one query
    whatever the length of the history (the changes themselves are read when an item's is opened).
    Without Answer's default ordering, which would join the rubric's items only to sort."""
    rows = (
        audit.answers.order_by()
        .annotate(n=Count("changes"), mine=Count("changes", filter=Q(changes__changed_by_id=getattr(user, "pk", None))))
        .values_list(
            "item_id",
            "status",
            "notes",
            "evidence",
            "carried_over",
            "version",
            "answered_by_id",
            "answered_by__username",
            "answered_at",
            "n",
            "mine",
            "exemption_state",
            "expires_on",
            "exemption_requested_by_id",
            "decision_comment",
        )
    )
    return {
        row[0]: QuestionnaireAnswer(*row[:7], row[7] or "", row[8], row[9], row[10] > 0, *row[11:])  # type: ignore[misc]
        for row in rows
    }


def draft_scores(*, audits: list[Audit]) -> dict[int, ScoreResult]:
    """The current score of each draft among `audits`, from its answers, in one query for all of them."""
    drafts = {audit.pk: audit for audit in audits if not audit.is_submitted}
    statuses: dict[int, dict[str, str]] = {pk: {} for pk in drafts}
    today = score_day(submitted_at=None)
    if drafts:
        for audit_id, code, status, state, expires_on in (
            Answer.objects.filter(audit_id__in=drafts)
            .order_by()
            .values_list("audit_id", "item__code", "status", "exemption_state", "expires_on")
        ):
            statuses[audit_id][code] = counted_status(status, state, expires_on, today)
    return {pk: score_answers(rubric_spec(drafts[pk].rubric), found) for pk, found in statuses.items()}


# REST API ----------------------------------------------------------------------


def project_with_latest_score(*, user: Actor, slug: str) -> Project:
    """project_for_user, annotated like with_latest_scores."""
    project = with_latest_scores(visible_projects(user=user)).filter(slug=slug).first()
    if project is None:
        raise Http404("No such project.")
    return project


def badge_project_for(*, user: Actor, slug: str) -> Project:
    """A project whose badge this user may fetch: a public badge, or a project the user can see."""
    project = Project.objects.filter(slug=slug).first()
    if project is None or not (project.badge_public or visible_projects(user=user).filter(pk=project.pk).exists()):
        raise Http404("No such project.")
    return project
