"""Background work of the audits app."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.contrib.auth.forms import PasswordResetForm


@shared_task(
    name="audits.send_password_reset_mail",
    acks_late=True,
    autoretry_for=(SMTPException, OSError),  # the mail server is down or refused for now
    retry_backoff=True,
    max_retries=5,
    time_limit=120,
)
def send_password_reset_mail(*, email: str, domain: str, use_https: bool) -> None:
    """Look the address up and mail a reset link to each active account with it (none: nothing to do).

    Takes the address, not a user id: the request must not look the user up (see audits/views/accounts.py)."""
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(domain_override=domain, use_https=use_https)


# The notifications package's tasks, registered with the worker through this module (Celery's autodiscovery
# looks for <app>.tasks only).
from audits.campaigns import tasks as campaign_tasks  # noqa: E402, F401
from audits.exemptions import tasks as exemption_tasks  # noqa: E402, F401
from audits.notifications import tasks as notification_tasks  # noqa: E402, F401
from audits.staleness import tasks as staleness_tasks  # noqa: E402, F401
