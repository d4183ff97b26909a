"""Delivering one ledger row, exactly once: the row is locked while it is sent and only a pending row is sent.

A redelivered Celery message, a retry racing a beat re-send or a second worker all wait for the lock and then
find the row sent. (A worker killed between the send and the commit sends again on redelivery: at least
once in that case, never twice otherwise.)
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.models import (
    CHANNEL_PAUSE_AFTER_FAILURES,
    ChannelKind,
    Delivery,
    DeliveryState,
    NotificationChannel,
    NotificationPreference,
    WebhookPayload,
)
from audits.models.notifications import DELIVERY_ERROR_MAX_LENGTH
from audits.notifications import messages, transport

log = logging.getLogger(__name__)


class DeliveryRetry(Exception):
    """This attempt failed for a reason that may pass; Celery retries the task with backoff."""


def email_opted_out(address: str) -> bool:
    """Whether an active user with this address asked for no notification email."""
    return NotificationPreference.objects.filter(
        email_opt_out=True, user__is_active=True, user__email__iexact=address
    ).exists()


def delivery_attempt(*, delivery_id: int, final_attempt: bool) -> Delivery | None:
    """Send one pending delivery. A failure that may pass raises DeliveryRetry unless this is the final attempt;
    otherwise the row is recorded failed and counts against its channel."""
    retry: DeliveryRetry | None = None
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("notification__team", "notification__project", "channel", "recipient")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.state != DeliveryState.PENDING:
            return delivery  # deleted with its channel, or already sent/failed/skipped: nothing to do
        channel = delivery.channel
        if channel is not None and channel.is_paused:
            return _finish(delivery, DeliveryState.SKIPPED, _("The channel is paused."))
        address = channel.address if channel is not None else getattr(delivery.recipient, "email", "")
        is_email = channel is None or channel.kind == ChannelKind.EMAIL
        if is_email and not address:
            return _finish(delivery, DeliveryState.SKIPPED, _("The user has no email address."))
        if is_email and email_opted_out(address):
            return _finish(delivery, DeliveryState.SKIPPED, _("The recipient opted out of notification email."))
        delivery.attempts += 1
        delivery.last_attempt_at = timezone.now()
        try:
            _send(delivery, address)
        except transport.TransientError as exc:
            if final_attempt:
                return _failed(delivery, str(exc))
            delivery.last_error = str(exc)[:DELIVERY_ERROR_MAX_LENGTH]
            delivery.save(update_fields=["attempts", "last_attempt_at", "last_error"])
            retry = DeliveryRetry(str(exc))
        except transport.PermanentError as exc:
            return _failed(delivery, str(exc))
        else:
            delivery.sent_at = timezone.now()
            if channel is not None and channel.consecutive_failures:
                NotificationChannel.objects.filter(pk=channel.pk).update(consecutive_failures=0)
            return _finish(delivery, DeliveryState.SENT, "")
    if retry is not None:
        raise retry  # outside the atomic block, so the attempt and its error are committed
    return delivery


def delivery_mark_failed(*, delivery_id: int, error: str) -> None:
    """Record a delivery that stopped for an unexpected reason; one already finished keeps its outcome."""
    Delivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED, last_error=error[:DELIVERY_ERROR_MAX_LENGTH], last_attempt_at=timezone.now()
    )


def _send(delivery: Delivery, address: str) -> None:
    notification = delivery.notification
    channel = delivery.channel
    if channel is None or channel.kind == ChannelKind.EMAIL:
        subject, text = messages.email_text(notification)
        transport.send_email(to=address, subject=subject, body=text)
        return
    slack = channel.payload == WebhookPayload.SLACK
    body = messages.slack_body(notification) if slack else messages.json_body(notification)
    transport.post_webhook(url=channel.url, body=body, secret_encrypted=channel.secret_encrypted, signed=not slack)


def _finish(delivery: Delivery, state: str, error: str) -> Delivery:
    delivery.state = state
    delivery.last_error = error[:DELIVERY_ERROR_MAX_LENGTH]
    delivery.save(update_fields=["state", "attempts", "last_error", "last_attempt_at", "sent_at"])
    return delivery


def _failed(delivery: Delivery, error: str) -> Delivery:
    """Record the failure; the channel's failures in a row are counted and it is paused at the limit."""
    _finish(delivery, DeliveryState.FAILED, error)
    if delivery.channel_id is not None:
        channel = NotificationChannel.objects.select_for_update().get(pk=delivery.channel_id)
        channel.consecutive_failures += 1
        fields = ["consecutive_failures", "updated_at"]
        if channel.consecutive_failures >= CHANNEL_PAUSE_AFTER_FAILURES and not channel.is_paused:
            channel.paused_at = timezone.now()
            channel.paused_reason = _("Paused after {count} failed deliveries in a row; the last: {error}").format(
                count=channel.consecutive_failures, error=error
            )[:DELIVERY_ERROR_MAX_LENGTH]
            fields += ["paused_at", "paused_reason"]
            log.warning("Notification channel %s paused: %s", channel.pk, channel.paused_reason)
        channel.save(update_fields=fields)
    return delivery
