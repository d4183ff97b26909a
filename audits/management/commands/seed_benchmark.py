"""Generate a large synthetic portfolio for the benchmarks (bench/portfolio.py).

Meant for a dedicated, empty database: it refuses to add a second portfolio on top of a
partial one. Everything is written in blocks of projects (answers with PostgreSQL's COPY), so memory
stays flat; 1,000 projects x 20 audits x 28 answers take about 30 s, 10,000 projects about 5 minutes.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from audits.models import Answer, Audit, AuditStatus, Membership, Project, Role, Team
from audits.services import project_refresh_latest_audits
from audits.types import User
from rubric.models import Item
from rubric.scoring import score_answers
from rubric.selectors import default_rubric, rubric_spec
from rubric.statuses import AUTOMATED, LADDER, NOT_DONE

BENCH_PREFIX = "bench-"
BENCH_USERNAME = "bench-manager"
STATUSES = LADDER
PROJECTS_PER_BLOCK = 50


class Command(BaseCommand):
    help = "Seed a synthetic portfolio (teams, projects, submitted audits, answers) for benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--projects", type=int, default=1000)
        parser.add_argument("--audits", type=int, default=20, help="Submitted audits per project.")
        parser.add_argument("--teams", type=int, default=10)
        parser.add_argument("--seed", type=int, default=2017, help="Random seed, for repeatable data.")

    def handle(self, *args: Any, **options: Any) -> None:
        projects, audits, teams = options["projects"], options["audits"], options["teams"]
        existing = Project.objects.filter(slug__startswith=BENCH_PREFIX).count()
        if existing:
            expected_audits = projects * audits
            found_audits = Audit.objects.filter(project__slug__startswith=BENCH_PREFIX).count()
            if existing == projects and found_audits == expected_audits:
                self.stdout.write(f"Benchmark portfolio already present ({existing} projects); nothing seeded.")
                return
            raise CommandError(
                f"A different benchmark portfolio is present ({existing} projects, {found_audits} audits); "
                "seed into a fresh database instead."
            )
        rubric = default_rubric()
        if rubric is None:
            raise CommandError("No rubric is loaded; run manage.py migrate (or load_rubric) first.")
        started = timezone.now()
        rng = random.Random(options["seed"])
        user = self._manager(teams)
        team_rows = list(Team.objects.filter(slug__startswith=BENCH_PREFIX).order_by("slug"))
        items = list(Item.objects.filter(rubric=rubric).order_by("section__order", "order"))
        spec = rubric_spec(rubric)
        for first in range(0, projects, PROJECTS_PER_BLOCK):
            count = min(PROJECTS_PER_BLOCK, projects - first)
            with transaction.atomic():
                self._seed_block(rng, first, count, audits, team_rows, rubric, items, spec, user)
            self.stdout.write(f"  {first + count}/{projects} projects", ending="\r")
            self.stdout.flush()
        self.stdout.write("")  # end the progress line
        project_refresh_latest_audits(Project.objects.filter(slug__startswith=BENCH_PREFIX))
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {projects} projects x {audits} audits x {len(items)} answers in {seconds:.0f} s "
                f"(sign in as {BENCH_USERNAME!r}, a manager of all {teams} teams)."
            )
        )

    def _manager(self, teams: int) -> User:
        user, _created = get_user_model().objects.get_or_create(
            username=BENCH_USERNAME, defaults={"email": "bench@example.com"}
        )
        user.set_unusable_password()
        user.save()
        created = Team.objects.bulk_create(
            Team(name=f"Bench team {index + 1:02d}", slug=f"{BENCH_PREFIX}team-{index + 1:02d}")
            for index in range(teams)
        )
        Membership.objects.bulk_create(Membership(team=team, user=user, role=Role.MANAGER) for team in created)
        return user

    def _seed_block(
        self,
        rng: random.Random,
        first: int,
        count: int,
        audits: int,
        teams: list[Team],
        rubric: Any,
        items: list[Item],
        spec: Any,
        user: User,
    ) -> None:
        now = timezone.now()
        projects = Project.objects.bulk_create(
            Project(
                team=teams[index % len(teams)],
                name=f"Bench system {index + 1:04d}",
                slug=f"{BENCH_PREFIX}{index + 1:04d}",
                audit_cadence_days=rng.choice((30, 90, 90, 90, 180)),
            )
            for index in range(first, first + count)
        )
        audit_rows: list[Audit] = []
        statuses_per_audit: list[dict[str, str]] = []
        for project in projects:
            # Each system starts somewhere and mostly improves, audit after audit.
            level = {item.code: rng.choices((0, 1, 2), weights=(6, 3, 1))[0] for item in items}
            last_days_ago = rng.uniform(1, 200)
            for index in range(audits):
                for code in level:
                    roll = rng.random()
                    if roll < 0.12:
                        level[code] = min(2, level[code] + 1)
                    elif roll < 0.15:
                        level[code] = max(0, level[code] - 1)
                statuses = {code: STATUSES[value] for code, value in level.items()}
                result = score_answers(spec, statuses)
                submitted_at = now - timedelta(days=last_days_ago + 30 * (audits - 1 - index))
                audit_rows.append(
                    Audit(
                        project=project,
                        rubric=rubric,
                        status=AuditStatus.SUBMITTED,
                        created_by=user,
                        submitted_by=user,
                        submitted_at=submitted_at,
                        final_score=result.final,
                        section_scores={s.key: float(s.score) for s in result.sections},
                        band_label=result.band.label if result.band else "",
                    )
                )
                statuses_per_audit.append(statuses)
        created = Audit.objects.bulk_create(audit_rows, batch_size=1000)
        answers = (
            (audit, item, statuses[item.code])
            for audit, statuses in zip(created, statuses_per_audit, strict=True)
            for item in items
        )
        if connection.vendor == "postgresql":
            _copy_answers(answers, user.pk)
            return
        Answer.objects.bulk_create(
            (
                Answer(
                    audit=audit,
                    item=item,
                    status=status,
                    notes=_notes(status),
                    evidence=_evidence(audit, item, status),
                    answered_by=user,
                    answered_at=audit.submitted_at,
                )
                for audit, item, status in answers
            ),
            batch_size=2000,
        )


def _notes(status: str) -> str:
    return "Checked in the weekly review." if status != NOT_DONE else ""


def _evidence(audit: Audit, item: Item, status: str) -> list[str]:
    return [f"https://ci.example.com/{audit.project.slug}/{item.code}"] if status == AUTOMATED else []


# Columns of audits_answer written by COPY (its other columns keep their defaults or stay empty).
_ANSWER_COLUMNS = (
    "audit_id",
    "item_id",
    "status",
    "notes",
    "evidence",
    "carried_over",
    "answered_by_id",
    "answered_at",
    "version",
)


def _copy_answers(answers: Iterable[tuple[Audit, Item, str]], user_id: int) -> None:
    """PostgreSQL's COPY: about 5x faster than bulk_create's INSERTs, which matters at 5.6 million answers.

    Every value is ours (digits, fixed words, slugs), none holds a tab, newline or backslash.
    """
    buffer = io.StringIO()
    for audit, item, status in answers:
        evidence = json.dumps(_evidence(audit, item, status))
        submitted = audit.submitted_at.isoformat() if audit.submitted_at else "\\N"
        buffer.write(f"{audit.pk}\t{item.pk}\t{status}\t{_notes(status)}\t{evidence}\tf\t{user_id}\t{submitted}\t1\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(  # the psycopg2 cursor under Django's wrapper
            f"COPY {Answer._meta.db_table} ({', '.join(_ANSWER_COLUMNS)}) FROM STDIN", buffer
        )
