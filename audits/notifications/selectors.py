"""Readers of notifications: a team's channels and recent deliveries, for its managers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from audits.models import Delivery, NotificationChannel, NotificationPreference, Role, Team
from audits.selectors import has_role, team_for_user
from audits.types import Actor, User

RECENT_DELIVERIES = 50


def team_for_manager(*, user: Actor, slug: str) -> Team:
    """The team if the user manages it (or is staff); 404 for outsiders, 403 for its other members."""
    team = team_for_user(user=user, slug=slug)
    if not has_role(user=user, team=team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only the team's managers manage its notification channels."))
    return team


def team_channels(*, team: Team) -> QuerySet[NotificationChannel]:
    return NotificationChannel.objects.filter(team=team).order_by("pk")


def channel_of_team(*, team: Team, channel_id: int) -> NotificationChannel:
    channel = team_channels(team=team).filter(pk=channel_id).first()
    if channel is None:
        raise Http404(_("No such notification channel."))
    return channel


def recent_deliveries(*, team: Team, limit: int = RECENT_DELIVERIES) -> QuerySet[Delivery]:
    """The team's latest deliveries with what the page shows of each, in one query."""
    return (
        Delivery.objects.filter(notification__team=team)
        .select_related("notification", "notification__project", "channel", "recipient")
        .order_by("-created_at", "-pk")[:limit]
    )


def email_opted_out(*, user: User) -> bool:
    return NotificationPreference.objects.filter(user=user, email_opt_out=True).exists()
