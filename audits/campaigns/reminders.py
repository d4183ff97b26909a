"""Campaign reminders: at set points before the due date (CAMPAIGN_REMINDER_DAYS), each project in scope
that does not meet the target yet is announced through its team's notification channels."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audits.campaigns.selectors import campaign_progress
from audits.formatting import plain
from audits.models import CAMPAIGN_REMINDER_DAYS, Campaign, Project
from audits.notifications import notify


def reminder_point(days_left: int) -> int | None:
    """The reminder due with `days_left` days to go: the nearest point at or above it, so a day on which the
    task did not run is caught up the next day (the notification key sends each point once)."""
    if days_left < 0:
        return None
    return min((point for point in CAMPAIGN_REMINDER_DAYS if point >= days_left), default=None)


def reminder_key(campaign: Campaign, project_id: int, point: int) -> str:
    return f"campaign:{campaign.pk}:{project_id}:{point}"


def active_campaign_ids(today: date | None = None) -> list[int]:
    """Campaigns running today that a reminder point may concern."""
    today = today or timezone.localdate()
    return list(
        Campaign.objects.filter(starts_on__lte=today, due_on__gte=today).order_by("pk").values_list("pk", flat=True)
    )


def campaign_reminders_send(*, campaign_id: int, today: date | None = None) -> int:
    """Announce the projects not meeting the target when a reminder point is due; the number announced.

    Records the day on the campaign (its page shows it). Safe to run again: notify's key makes each
    (campaign, project, point) one event."""
    today = today or timezone.localdate()
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(of=("self",)).select_related("rubric").filter(pk=campaign_id).first()
        )
        if campaign is None:
            return 0
        point = reminder_point((campaign.due_on - today).days) if today >= campaign.starts_on else None
        sent = 0
        if point is not None:
            progress = campaign_progress(campaign=campaign, user=None, today=today)
            behind = [row for row in progress.projects if not row.met]
            projects = Project.objects.select_related("team").in_bulk([row.project_id for row in behind])
            url = reverse("campaigns:detail", args=[campaign.pk])
            with translation.override(settings.LANGUAGE_CODE):
                for row in behind:
                    lines = [
                        ngettext(
                            "%(days)s day left to reach %(target)s in the campaign “%(name)s”.",
                            "%(days)s days left to reach %(target)s in the campaign “%(name)s”.",
                            progress.days_left,
                        )
                        % {"days": progress.days_left, "target": progress.target.label, "name": campaign.name},
                    ]
                    if row.next_steps_count:
                        count = row.next_steps_count
                        lines.append(
                            ngettext("%(n)s answer to change.", "%(n)s answers to change.", count) % {"n": count}
                        )
                    notify(
                        event="campaign_reminder",
                        project=projects[row.project_id],
                        key=reminder_key(campaign, row.project_id, point),
                        context={
                            "title": _("Campaign “%(name)s”: %(project)s")
                            % {"name": campaign.name, "project": row.name},
                            "lines": lines,
                            "url": url,
                            "campaign": campaign.pk,
                            "target": progress.target.api_value,
                            "due_on": campaign.due_on.isoformat(),
                            "days_left": progress.days_left,
                            "final": plain(row.final) or None,
                            "next_steps_count": row.next_steps_count,
                        },
                    )
                    sent += 1
        Campaign.objects.filter(pk=campaign.pk).update(reminders_checked_on=today)
    return sent
