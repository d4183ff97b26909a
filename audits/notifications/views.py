"""The team's notifications page (managers) and the user's own email preference."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audits.models import Team
from audits.notifications import channels, selectors
from audits.notifications.forms import ChannelForm, PreferenceForm
from audits.types import actor_of
from audits.views.common import add_service_errors


def _page(
    request: HttpRequest, team: Team, *, form: ChannelForm | None = None, secret: str = "", status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "team": team,
        "channels": selectors.team_channels(team=team),
        "deliveries": selectors.recent_deliveries(team=team),
        "form": form or ChannelForm(),
        "new_secret": secret,
    }
    return render(request, "notifications/team_notifications.html", context, status=status)


def team_notifications(request: HttpRequest, slug: str) -> HttpResponse:
    team = selectors.team_for_manager(user=request.user, slug=slug)
    if request.method != "POST":
        return _page(request, team)
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel, secret = channels.channel_create(actor=actor_of(request), team=team, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Channel added: %(target)s.") % {"target": channel.target})
            if secret:
                # Shown in this answer only (it is stored encrypted): no redirect, so nothing keeps it.
                return _page(request, team, secret=secret)
            return redirect("notifications:team", slug=team.slug)
    return _page(request, team, form=form, status=400)


@require_POST
def channel_resume(request: HttpRequest, slug: str, channel_id: int) -> HttpResponse:
    team = selectors.team_for_manager(user=request.user, slug=slug)
    channel = selectors.channel_of_team(team=team, channel_id=channel_id)
    channels.channel_resume(actor=actor_of(request), channel=channel)
    messages.success(request, _("Channel resumed: %(target)s.") % {"target": channel.target})
    return redirect("notifications:team", slug=team.slug)


@require_POST
def channel_delete(request: HttpRequest, slug: str, channel_id: int) -> HttpResponse:
    team = selectors.team_for_manager(user=request.user, slug=slug)
    channel = selectors.channel_of_team(team=team, channel_id=channel_id)
    channels.channel_delete(actor=actor_of(request), channel=channel)
    messages.success(request, _("Channel removed: %(target)s.") % {"target": channel.target})
    return redirect("notifications:team", slug=team.slug)


@require_POST
def preference_save(request: HttpRequest) -> HttpResponse:
    form = PreferenceForm(request.POST)
    form.is_valid()  # a checkbox: any body is valid
    channels.preference_set(user=actor_of(request), email_opt_out=bool(form.cleaned_data.get("email_opt_out")))
    messages.success(request, _("Your notification preference is saved."))
    return redirect("account:profile")
