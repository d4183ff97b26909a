"""Writers of notifications: record an event and its ledger rows, and queue their delivery after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audits.models import (
    Audit,
    Delivery,
    DeliveryState,
    Notification,
    NotificationChannel,
    NotificationEvent,
    Project,
    Team,
)

log = logging.getLogger(__name__)

# A delivery still unattempted this long after notify() has lost its task; the beat queues it again.
STRANDED_AFTER = timedelta(minutes=10)


def notify(
    *,
    event: str,
    project: Project | None,
    key: str,
    context: dict[str, Any] | None = None,
    audit: Audit | None = None,
    team: Team | None = None,
    recipients: Iterable[Any] | None = None,
) -> None:
    """Record `event` for the team (given, or the project's) and one ledger row per subscribed channel and per
    recipient; their delivery is queued once the caller's transaction commits.

    `key` makes the event unique for the team: a second call with the same event and key records nothing new
    and sends nothing again (a channel subscribed since then gets its first delivery). Paused channels are
    left out. `recipients` are users mailed at their own address, in addition to the team's channels.
    """
    event = NotificationEvent(event)  # an unknown event is a programming error: ValueError
    if team is None:
        if project is None:
            raise ValueError("notify() needs a project or a team")
        team = project.team
    with transaction.atomic():
        notification, _created = Notification.objects.get_or_create(
            event=event,
            team=team,
            key=key,
            defaults={"project": project, "audit": audit, "context": context or {}},
        )
        new_ids: list[int] = []
        # A team has a handful of channels: filter their events here rather than with a JSON lookup,
        # which SQLite (the embedded mode) does not support.
        for channel in NotificationChannel.objects.filter(team=team, paused_at__isnull=True):
            if event in channel.events:
                delivery, created = Delivery.objects.get_or_create(notification=notification, channel=channel)
                if created:
                    new_ids.append(delivery.pk)
        for user in recipients or ():
            delivery, created = Delivery.objects.get_or_create(notification=notification, recipient=user)
            if created:
                new_ids.append(delivery.pk)
    if new_ids:
        transaction.on_commit(lambda: queue_deliveries(new_ids))


def queue_deliveries(delivery_ids: Iterable[int]) -> None:
    """Send one task per ledger row. A row whose task the broker refused stays pending; the beat's
    `notifications.resend_pending` sends it again, and the ledger keeps that from sending twice."""
    import kombu.exceptions

    from audits.notifications.tasks import deliver_notification

    for delivery_id in delivery_ids:
        try:
            deliver_notification.delay(delivery_id)
        except kombu.exceptions.OperationalError as exc:
            log.warning("Notification delivery %s could not be queued: %s", delivery_id, exc)


def stranded_delivery_ids() -> list[int]:
    """Pending deliveries never attempted STRANDED_AFTER after they were recorded: their task was lost."""
    cutoff = timezone.now() - STRANDED_AFTER
    rows = Delivery.objects.filter(state=DeliveryState.PENDING, last_attempt_at__isnull=True, created_at__lt=cutoff)
    return list(rows.values_list("pk", flat=True)[:1000])
