"""Project tags and campaigns: a target score or band that a scope of projects should reach by a date.

A tag's shape (a slug of at most TAG_MAX_LENGTH characters, at most TAGS_PER_PROJECT per project) is
defined here once; the settings form, the API serializer and audits.campaigns.services import it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.models.core import Project, Team
from rubric.models import Rubric

TAG_MAX_LENGTH = 50
TAGS_PER_PROJECT = 20
CAMPAIGN_NAME_MAX_LENGTH = 200
CAMPAIGN_DESCRIPTION_MAX_LENGTH = 5000
# Days before the due date on which projects not yet meeting the target are reminded (the daily task).
CAMPAIGN_REMINDER_DAYS = (14, 7, 1)


class Tag(models.Model):
    # The many-to-many lives here so Project (audits/models/core.py) is unchanged; `project.tags` reads it.
    slug = models.SlugField(max_length=TAG_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=TAG_MAX_LENGTH)
    projects = models.ManyToManyField(Project, related_name="tags", blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """Every project in scope should reach the target by `due_on`.

    The target is a band label (a final score inside that band or a better one) or a minimum final
    score; exactly one of `target_band` / `target_score` is set, checked against `rubric` when saved
    (audits.campaigns.services). Scope: projects of `teams` (all teams when empty) carrying any of
    `tags` (any tag when empty); at least one of the two is set.
    """

    name = models.CharField(max_length=CAMPAIGN_NAME_MAX_LENGTH)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(CAMPAIGN_DESCRIPTION_MAX_LENGTH)])
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="+")
    target_band = models.CharField(max_length=100, blank=True)
    target_score = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    teams = models.ManyToManyField(Team, related_name="campaigns", blank=True)
    tags = models.ManyToManyField(Tag, related_name="campaigns", blank=True)
    starts_on = models.DateField()
    due_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The last day the reminder task looked at this campaign, shown on its page.
    reminders_checked_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["due_on", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(target_score__isnull=True) & ~models.Q(target_band=""))
                | (models.Q(target_score__isnull=False) & models.Q(target_band="")),
                name="campaign_one_target",
                violation_error_message=_("A campaign has either a target band or a target score."),
            ),
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("starts_on")), name="campaign_due_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name
