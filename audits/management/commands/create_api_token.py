from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.api.tokens import api_token_create
from audits.models import Project


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (shown this once only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="A name to tell this token apart.")
        parser.add_argument(
            "--push-to",
            metavar="PROJECT_SLUG",
            default="",
            help="Create a push token: it may only post CI reports to this project (the user must manage it).",
        )

    def handle(self, *args: Any, username: str, name: str, push_to: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named “{username}”; create it first (manage.py createsuperuser).")
        if not user.is_active:
            raise CommandError(f"The user “{username}” is inactive; a token for it would be refused.")
        project = None
        if push_to:
            project = Project.objects.filter(slug=push_to).select_related("team").first()
            if project is None:
                raise CommandError(f"There is no project with the slug “{push_to}”.")
        try:
            _token, key = api_token_create(user=user, name=name, push_project=project)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(key)
        self.stderr.write(
            f"Token “{name}” created for {username}. Store the key now: it cannot be shown again.\n"
            "Use it as: Authorization: Token <key>"
            + (f"\nIt may only post reports to the project “{push_to}”." if push_to else "")
        )
