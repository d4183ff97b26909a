"""The load benchmark's data: a portfolio, signed-in users with their own sessions, one draft per project.

Needs Django set up (bench.portfolio.open_bench_database). The portfolio comes from seed_benchmark
(teams, projects, submitted audits with answers; skipped when present). Each run then starts every
project's draft afresh, carrying the last submitted audit's answers over, so runs start alike.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils.crypto import get_random_string

from audits import services
from audits.management.commands.seed_benchmark import BENCH_PREFIX, BENCH_USERNAME
from audits.models import Audit, AuditStatus, Membership, Project, Role, Team
from bench.load_locust import UserPlan
from rubric.models import Item

LOAD_USER_PREFIX = "load-user-"


def seed(*, projects: int, audits: int, teams: int, users: int) -> list[UserPlan]:
    # The previous run's drafts go first: seed_benchmark recognises its portfolio by its count of audits.
    Audit.objects.filter(project__slug__startswith=BENCH_PREFIX, status=AuditStatus.DRAFT).delete()
    call_command("seed_benchmark", projects=projects, audits=audits, teams=teams, verbosity=0)
    team_rows = list(Team.objects.filter(slug__startswith=BENCH_PREFIX).order_by("slug"))
    people = _users(users, team_rows)
    drafts = _fresh_drafts()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    slugs = tuple(Project.objects.filter(slug__startswith=BENCH_PREFIX).order_by("slug").values_list("slug", flat=True))
    rubric_id = Audit.objects.get(pk=next(iter(drafts.values()))[0]).rubric_id
    items = tuple(
        Item.objects.filter(rubric_id=rubric_id).order_by("section__order", "order").values_list("code", flat=True)
    )
    Session.objects.all().delete()  # the benchmark's own database: only its users ever sign in here
    plans = []
    for index, (user, team) in enumerate(people):
        csrf_token = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        cookie = f"{settings.SESSION_COOKIE_NAME}={_session(user)}; {settings.CSRF_COOKIE_NAME}={csrf_token}"
        plans.append(UserPlan(index, cookie, csrf_token, tuple(drafts[team.pk]), slugs, items))
    return plans


def _users(count: int, teams: list[Team]) -> list[tuple[object, Team]]:
    """`count` users, each an editor of one team (in turn) and a viewer of the others: the portfolio
    shows them every project, and the editors of a team share its drafts (so their saves can collide)."""
    model = get_user_model()
    people = []
    for index in range(count):
        user, _ = model.objects.get_or_create(
            username=f"{LOAD_USER_PREFIX}{index + 1:03d}", defaults={"email": f"load{index + 1}@example.com"}
        )
        home = teams[index % len(teams)]
        for team in teams:
            role = Role.EDITOR if team == home else Role.VIEWER
            Membership.objects.update_or_create(team=team, user=user, defaults={"role": role})
        people.append((user, home))
    return people


def _fresh_drafts() -> dict[int, list[int]]:
    """One draft per project, started from its last submitted audit, by team."""
    manager = get_user_model().objects.get(username=BENCH_USERNAME)
    drafts: dict[int, list[int]] = {}
    for project in Project.objects.filter(slug__startswith=BENCH_PREFIX).select_related("team").order_by("slug"):
        audit = services.audit_start(actor=manager, project=project, copy_from_latest=True)
        drafts.setdefault(project.team_id, []).append(audit.pk)
    return drafts


def _session(user: object) -> str:
    """A real session in the session store, as the sign-in form would leave it (without 50 password hashes)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")  # type: ignore[arg-type]
    return client.cookies[settings.SESSION_COOKIE_NAME].value
