import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "On the first run only, create a demo administrator and print its password once."

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("Demo data already present; nothing seeded.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username="admin", email="admin@example.com", password=password)
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
