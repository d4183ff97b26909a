"""The live-score check as a Celery task, for writers of evidence that run in a web request (a registry
webhook, a pushed CI report): the request records the evidence and answers; the worker works out the live
score and announces a drop."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError, transaction

from audits.staleness.events import live_score_check

log = logging.getLogger(__name__)


@shared_task(
    name="staleness.live_score_check",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def live_score_checked(project_id: int) -> None:
    live_score_check(project_id=project_id)


def live_score_check_after_commit(project_id: int) -> None:
    """Queue the check once the writer's transaction commits; a broker that is down only loses the check."""

    def send() -> None:
        try:
            live_score_checked.delay(project_id)
        except Exception:  # the evidence is recorded; only its announcement is lost
            log.exception("Could not queue the live score check of project %s", project_id)

    transaction.on_commit(send)
