"""Template pieces of notifications that shared pages include with one line."""

from __future__ import annotations

from typing import Any

from django import template

from audits.models import NotificationEvent
from audits.notifications.forms import PreferenceForm
from audits.notifications.selectors import email_opted_out
from audits.types import User

register = template.Library()


@register.inclusion_tag("notifications/_preference.html", takes_context=True)
def notification_preference(context: dict[str, Any]) -> dict[str, Any]:
    user: User = context["user"]  # a template context is untyped; this piece is on signed-in pages only
    return {
        "form": PreferenceForm(initial={"email_opt_out": email_opted_out(user=user)}),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def event_label(value: str) -> str:
    try:
        return str(NotificationEvent(value).label)
    except ValueError:
        return value
