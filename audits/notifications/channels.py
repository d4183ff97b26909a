"""Writers of channels and preferences: a team's managers add, change, pause, resume and remove channels;
every user sets their own email preference."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.models import (
    ChannelKind,
    NotificationChannel,
    NotificationEvent,
    NotificationPreference,
    Role,
    Team,
    WebhookPayload,
)
from audits.models.notifications import CHANNEL_URL_MAX_LENGTH
from audits.notifications.transport import new_secret
from audits.selectors import has_role
from audits.types import Actor, User
from integrations.mlflow import outbound

EDITABLE = ("events", "address", "url", "payload")


def _require_manager(actor: Actor, team: Team) -> None:
    if not has_role(user=actor, team=team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only the team's managers manage its notification channels."))


def check_webhook_url(url: str) -> None:
    """Refuse a webhook URL mlaudit must not call, with the reason, before it is saved: the MLflow address
    guard decides (outbound.resolve_checked); every delivery is checked again when its socket connects."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError({"url": _("This is not a valid URL.")}) from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationError({"url": _("A webhook URL starts with https:// (or http://) and names a host.")})
    if len(url) > CHANNEL_URL_MAX_LENGTH:
        raise ValidationError({"url": _("At most {count} characters.").format(count=CHANNEL_URL_MAX_LENGTH)})
    try:
        outbound.resolve_checked(host, port)
    except outbound.RefusedAddress as exc:
        raise ValidationError({"url": exc.message}) from None
    except (OSError, UnicodeError, ValueError):
        raise ValidationError({"url": _("The host name {host} does not resolve.").format(host=host)}) from None


def _clean(fields: dict[str, Any], kind: str) -> dict[str, Any]:
    """Validate the fields of a channel of this kind; errors name the field."""
    errors: dict[str, str] = {}
    events = fields.get("events")
    if events is not None:
        unknown = [str(e) for e in events if e not in NotificationEvent.values] if isinstance(events, list) else []
        if not isinstance(events, list) or not events:
            errors["events"] = _("Choose at least one event.")
        elif unknown:
            errors["events"] = _("Unknown events: {events}.").format(events=", ".join(unknown))
        else:
            fields["events"] = [e for e in NotificationEvent.values if e in events]  # the vocabulary's order
    if kind == ChannelKind.EMAIL:
        if "address" in fields:
            fields["address"] = str(fields["address"] or "").strip()
            try:
                EmailValidator()(fields["address"])
            except ValidationError:
                errors["address"] = _("Enter a valid email address.")
        fields.pop("url", None)
        fields.pop("payload", None)
    else:
        if "payload" in fields:
            fields["payload"] = fields["payload"] or WebhookPayload.JSON
            if fields["payload"] not in WebhookPayload.values:
                errors["payload"] = _("Choose json or slack.")
        if "url" in fields:
            fields["url"] = str(fields["url"] or "").strip()
            try:
                check_webhook_url(fields["url"])
            except ValidationError as exc:
                errors["url"] = exc.message_dict["url"][0]
        fields.pop("address", None)
    if errors:
        raise ValidationError(errors)
    return fields


def channel_create(
    *, actor: User, team: Team, kind: str, events: list[str], address: str = "", url: str = "", payload: str = ""
) -> tuple[NotificationChannel, str]:
    """A new channel and, for a webhook, its signing secret in clear (shown once; stored encrypted)."""
    _require_manager(actor, team)
    if kind not in ChannelKind.values:
        raise ValidationError({"kind": _("Choose email or webhook.")})
    fields: dict[str, Any] = {"events": events}
    if kind == ChannelKind.EMAIL:
        fields["address"] = address
    else:
        fields.update(url=url, payload=payload or WebhookPayload.JSON)
    fields = _clean(fields, kind)
    secret, encrypted = new_secret() if kind == ChannelKind.WEBHOOK else ("", "")
    channel = NotificationChannel.objects.create(
        team=team, kind=kind, created_by=actor, secret_encrypted=encrypted, **fields
    )
    return channel, secret


def channel_update(*, actor: User, channel: NotificationChannel, **fields: Any) -> NotificationChannel:
    """Change the events, address, URL or payload; `paused=False` resumes it, `paused=True` pauses it."""
    _require_manager(actor, channel.team)
    paused = fields.pop("paused", None)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    fields = _clean(dict(fields), channel.kind)
    with transaction.atomic():
        locked = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        if paused is False:
            locked.paused_at, locked.paused_reason, locked.consecutive_failures = None, "", 0
        elif paused is True and not locked.is_paused:
            locked.paused_at = timezone.now()
            locked.paused_reason = _("Paused by {user}.").format(user=actor.username)
        locked.save()
    return locked


def channel_resume(*, actor: User, channel: NotificationChannel) -> NotificationChannel:
    return channel_update(actor=actor, channel=channel, paused=False)


def channel_delete(*, actor: User, channel: NotificationChannel) -> None:
    """Remove the channel and its ledger rows (their history goes with it)."""
    _require_manager(actor, channel.team)
    channel.delete()


def preference_set(*, user: User, email_opt_out: bool) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_opt_out": bool(email_opt_out)}
    )
    return preference
