"""The live_score_drop event: after new evidence (a sync, a registry webhook, a CI report), tell the team when
the live score dropped below the last audited one.

The event's key holds the live final score, so the same drop is announced once however many syncs see it,
and a further drop is announced again. Nothing here writes answers: a stale answer stays as it was audited.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from audits.formatting import plain
from audits.models import NotificationEvent, Project
from audits.notifications import notify
from audits.staleness.selectors import LiveScore, live_score

log = logging.getLogger(__name__)


def live_score_check(*, project_id: int, now: datetime | None = None) -> LiveScore | None:
    """Compute the project's live score and notify `live_score_drop` when it is below the last audited final.

    Called by the writers of evidence after their transaction committed. A failure here is logged and never
    undoes or fails the sync, webhook or report that called it.
    """
    try:
        project = Project.objects.select_related("team").filter(pk=project_id).first()
        score = live_score(project, now=now) if project is not None else None
        if project is None or score is None or not score.dropped:
            return score
        live_final = plain(score.final)
        notify(
            event=NotificationEvent.LIVE_SCORE_DROP,
            project=project,
            key=f"live:{project.pk}:{score.audit.pk}:{live_final}",
            audit=score.audit,
            context=drop_context(score),
        )
        return score
    except Exception:  # the evidence was recorded; only the announcement failed
        log.exception("Live score check failed for project %s", project_id)
        return None


def drop_context(score: LiveScore) -> dict:
    """What a live_score_drop delivery says: the scores, bands and each stale item with its reason (in the
    site's default language: a delivery has no reader's language)."""
    band, previous_band = score.live.band, score.audited.band
    language = settings.LANGUAGE_CODE
    with translation.override(language):
        title = _("Live score of %(project)s dropped to %(live)s (last audited %(audited)s)") % {
            "project": score.project.name,
            "live": plain(score.final),
            "audited": plain(score.audited_final),
        }
    return {
        "title": title,
        "lines": [f"{item.code}: {item.staleness.reason_in(language)}" for item in score.stale],
        "final": plain(score.final),
        "previous_final": plain(score.audited_final),
        "band": band.label if band else "",
        "previous_band": previous_band.label if previous_band else "",
        "url": reverse("audits:project-detail", args=[score.project.slug]),
        "stale": [
            {
                "item": item.code,
                "status": item.status,
                "supported": item.supported,
                "reason": item.staleness.reason_in(language),
            }
            for item in score.stale
        ],
    }
