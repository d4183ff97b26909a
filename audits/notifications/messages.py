"""What a notification says: its title, lines and link, the signed JSON body and the Slack body.

Producers put what they know in the event's context; the keys read here are:
``title`` and ``lines`` (text, already in the team's language), ``url`` (a path on this site or an absolute
URL), and for the JSON payload ``final``, ``previous_final``, ``band``, ``previous_band``. Everything in the
context is also passed on under ``context`` in the JSON body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from audits.models import Notification, NotificationEvent


@dataclass(frozen=True)
class Message:
    title: str
    lines: list[str]
    url: str


def absolute_url(path: str) -> str:
    if not path or "://" in path:
        return path
    return settings.MLAUDIT_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def message(notification: Notification) -> Message:
    context = notification.context or {}
    project = notification.project
    label = str(NotificationEvent(notification.event).label)
    title = context.get("title") or (f"{label}: {project.name}" if project else label)
    lines = [str(line) for line in context.get("lines", [])]
    path = context.get("url") or (f"/projects/{project.slug}/" if project else f"/teams/{notification.team.slug}/")
    return Message(title=str(title), lines=lines, url=absolute_url(str(path)))


def email_text(notification: Notification) -> tuple[str, str]:
    """Subject and plain-text body."""
    shown = message(notification)
    body = "\n".join([*shown.lines, "", shown.url]).strip() + "\n"
    return f"[mlaudit] {shown.title}", body


def json_body(notification: Notification) -> bytes:
    """The generic webhook body: the raw bytes are what the signature covers."""
    context = notification.context or {}
    shown = message(notification)
    body = {
        "event": notification.event,
        "key": notification.key,
        "team": notification.team.slug,
        "project": notification.project.slug if notification.project else None,
        "audit": notification.audit_id,
        "final": context.get("final"),
        "previous_final": context.get("previous_final"),
        "band": context.get("band"),
        "previous_band": context.get("previous_band"),
        "title": shown.title,
        "lines": shown.lines,
        "url": shown.url,
        "created_at": notification.created_at.isoformat(),
        "context": context,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def slack_body(notification: Notification) -> bytes:
    """A Slack incoming-webhook message: `text` for notifications, blocks for the channel."""
    shown = message(notification)
    text = f"{shown.title}\n" + "\n".join(f"• {line}" for line in shown.lines)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_escape(shown.title)}*"}},
    ]
    if shown.lines:
        detail = "\n".join(f"• {_escape(line)}" for line in shown.lines)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": detail[:2900]}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{shown.url}|mlaudit>"}]})
    return json.dumps({"text": text.strip(), "blocks": blocks}).encode()


def _escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
