"""First-run data: an administrator and a lived-in demo team, so a newcomer sees a working product.

Each part is created only once: a second run finds it and changes nothing.
"""

from __future__ import annotations

import random
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from audits import services
from audits.models import Answer, AnswerChange, Audit, Project, Role, Team
from audits.types import User
from rubric.models import AnswerStatus
from rubric.scoring import RubricSpec
from rubric.selectors import default_rubric, rubric_spec

DEMO_TEAM_SLUG = "demo"
DEMO_MANAGER = ("demo", "demo-manager-2026")
DEMO_EDITOR = ("demo-editor", "demo-editor-2026")
DEMO_VIEWER = ("demo-viewer", "demo-viewer-2026")

# Per project: (days ago, final score) of each submitted audit, oldest first.
DEMO_PROJECTS: list[dict[str, Any]] = [
    {
        "name": "Search ranking",
        "description": "Learning-to-rank model behind the site search.",
        "owner_contact": "search-ml@example.com",
        "history": [(340, Decimal("0")), (250, Decimal("0.5")), (160, Decimal("1.5")), (70, Decimal("2.5"))],
        "draft": True,
    },
    {
        "name": "Fraud detection",
        "description": "Real-time scoring of card payments.",
        "owner_contact": "risk-models@example.com",
        "history": [(300, Decimal("2")), (190, Decimal("3")), (100, Decimal("3.5")), (20, Decimal("5.5"))],
        "draft": False,
    },
    {
        "name": "Churn forecast",
        "description": "Monthly forecast of customers likely to cancel.",
        "owner_contact": "growth-analytics@example.com",
        "history": [(330, Decimal("0.5")), (210, Decimal("1")), (45, Decimal("1"))],
        "draft": False,
    },
]

DEMO_NOTES = [
    "Checked in the weekly model review; results are on the team wiki.",
    "Runs in CI on every merge to main.",
    "Done once before launch; needs an owner to repeat it.",
    "Alert goes to the on-call channel.",
    "",
]


def _section_answers(codes: tuple[str, ...], target: Decimal, rng: random.Random) -> dict[str, str]:
    """Statuses for one section's items that sum exactly to `target` (1 per automated, 0.5 per manual)."""
    automated = int(target)
    manual = 1 if target - automated else 0
    statuses = [AnswerStatus.AUTOMATED] * automated + [AnswerStatus.MANUAL] * manual
    statuses += [AnswerStatus.NOT_DONE] * (len(codes) - len(statuses))
    rng.shuffle(statuses)
    return dict(zip(codes, (str(s) for s in statuses), strict=True))


def demo_answers(spec: RubricSpec, final: Decimal, rng: random.Random) -> dict[str, str]:
    """A plausible set of answers whose final score (the lowest section) is exactly `final`."""
    weakest = rng.randrange(len(spec.sections))
    answers: dict[str, str] = {}
    for index, section in enumerate(spec.sections):
        ceiling = Decimal(len(section.item_codes))
        extra = Decimal(0) if index == weakest else Decimal(rng.randrange(0, 5)) / 2
        answers |= _section_answers(section.item_codes, min(final + extra, ceiling), rng)
    return answers


class Command(BaseCommand):
    help = "On the first run only, create an administrator and a demo team with projects and audits."

    def handle(self, *args: object, **options: object) -> None:
        self._seed_admin()
        self._seed_demo_team()

    def _seed_admin(self) -> None:
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            self.stdout.write("An administrator already exists; none created.")
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser(username="admin", email="admin@example.com", password=password)
        credentials = settings.VAR_DIR / "first-run-credentials.txt"
        credentials.parent.mkdir(parents=True, exist_ok=True)
        credentials.write_text(f"admin / {password}\n")
        credentials.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the administrator 'admin' with password '{password}' "
                f"(also saved in {credentials}; change it after signing in)."
            )
        )

    def _seed_demo_team(self) -> None:
        if Team.objects.filter(slug=DEMO_TEAM_SLUG).exists():
            self.stdout.write("Demo team already present; nothing seeded.")
            return
        rubric = default_rubric()
        if rubric is None:
            self.stdout.write(self.style.WARNING("No rubric is loaded; run load_rubric first. No demo data seeded."))
            return
        with transaction.atomic():
            manager = self._user(*DEMO_MANAGER)
            team = services.team_create(name="Demo team", slug=DEMO_TEAM_SLUG, creator=manager)
            for (username, password), role in ((DEMO_EDITOR, Role.EDITOR), (DEMO_VIEWER, Role.VIEWER)):
                self._user(username, password)
                services.membership_set(actor=manager, team=team, username_or_email=username, role=role)
            spec = rubric_spec(rubric)
            rng = random.Random(2026)
            for entry in DEMO_PROJECTS:
                project = services.project_create(
                    actor=manager,
                    team=team,
                    name=entry["name"],
                    description=entry["description"],
                    owner_contact=entry["owner_contact"],
                )
                for days_ago, final in entry["history"]:
                    audit = services.audit_start(actor=manager, project=project, rubric=rubric)
                    self._answer(manager, audit, demo_answers(spec, final, rng), rng)
                    services.audit_submit(actor=manager, audit=audit)
                    self._backdate(audit, days_ago)
                if entry["draft"]:
                    audit = services.audit_start(actor=manager, project=project, rubric=rubric, copy_from_latest=True)
                    self._backdate(audit, 2, submitted=False)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded the demo team with three projects. Sign in as '{DEMO_MANAGER[0]}' "
                f"with password '{DEMO_MANAGER[1]}' (editor: {DEMO_EDITOR[0]} / {DEMO_EDITOR[1]}, "
                f"viewer: {DEMO_VIEWER[0]} / {DEMO_VIEWER[1]})."
            )
        )

    def _user(self, username: str, password: str) -> User:
        users = get_user_model().objects
        user = users.filter(username=username).first()
        if user is None:
            user = users.create_user(username=username, email=f"{username}@example.com", password=password)
        return user

    def _answer(self, actor: User, audit: Audit, answers: dict[str, str], rng: random.Random) -> None:
        entries = [
            {
                "item": code,
                "status": status,
                "notes": rng.choice(DEMO_NOTES) if status != AnswerStatus.NOT_DONE else "",
                "evidence": [f"https://wiki.example.com/ml/{code}"] if status == AnswerStatus.AUTOMATED else [],
            }
            for code, status in answers.items()
        ]
        services.answers_bulk_upsert(actor=actor, audit=audit, entries=entries)

    def _backdate(self, audit: Audit, days_ago: int, submitted: bool = True) -> None:
        """Move an audit made just now into the past, as if the team had answered it back then."""
        started = timezone.now() - timedelta(days=days_ago, hours=6)
        finished = started + timedelta(days=3) if submitted else started
        Audit.objects.filter(pk=audit.pk).update(
            created_at=started, updated_at=finished, submitted_at=finished if submitted else None
        )
        services.project_refresh_latest_audits(Project.objects.filter(pk=audit.project_id))  # dates moved
        Answer.objects.filter(audit=audit).update(answered_at=started + timedelta(days=1))
        AnswerChange.objects.filter(answer__audit=audit).update(changed_at=started + timedelta(days=1))
