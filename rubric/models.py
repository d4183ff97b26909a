"""A rubric is versioned data: sections, items, points per answer status, score bands.

Rubric rows are written only by the loader (rubric.loader); once an audit uses a
rubric version it is never edited in place -- a changed rubric is a new version.
"""

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from rubric import statuses


class AnswerStatus(models.TextChoices):
    """The answers to a test, with the one long label (forms, history, exports) and the one short label
    (charts, status chips) every interface shows. NOT_APPLICABLE is an exemption: it needs a justification
    and an expiry, and it counts (worth the rubric's exemption points) only once a manager approves it."""

    NOT_DONE = statuses.NOT_DONE, _("Not done")
    MANUAL = statuses.MANUAL, _("Manual, documented and shared")
    AUTOMATED = statuses.AUTOMATED, _("Automated and repeated")
    NOT_APPLICABLE = statuses.NOT_APPLICABLE, _("Not applicable")

    @property
    def short_label(self) -> str:
        return str(_SHORT_STATUS_LABELS[self.value])


_SHORT_STATUS_LABELS = {
    statuses.NOT_DONE: _("Not done"),
    statuses.MANUAL: _("Manual"),
    statuses.AUTOMATED: _("Automated"),
    statuses.NOT_APPLICABLE: _("N/A"),
}

# The statuses a rubric file gives points to, lowest first. An exemption (not_applicable) is worth the
# rubric's `exemption_points` instead (default: the top points, as for a met criterion).
POINTED_STATUSES = statuses.LADDER


def status_label(status: str | None, *, short: bool = False, missing: str = "—") -> str:
    """The label of a status value in the active language; `missing` for none, the value itself if unknown."""
    if not status:
        return missing
    if status not in AnswerStatus.values:
        return status
    member = AnswerStatus(status)
    return member.short_label if short else str(member.label)


class Translatable(models.Model):
    """Rows carry their own translations: {"es": {"title": "...", ...}}."""

    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    def localized(self, field: str, language: str | None = None) -> Any:
        language = (language or get_language() or "en").split("-")[0]
        value = self.translations.get(language, {}).get(field)
        return value if value else getattr(self, field)


class Rubric(Translatable):
    slug = models.SlugField(max_length=100)
    version = models.CharField(max_length=50)
    title = models.CharField(max_length=200)
    source = models.TextField(blank=True)
    description = models.TextField(blank=True)
    points = models.JSONField(help_text="Points each answer status is worth, e.g. {'manual': 0.5}.")
    exemption_points = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Points an approved not-applicable answer is worth; empty: the top points.",
    )
    content_hash = models.CharField(max_length=64, editable=False)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug", "-loaded_at"]
        constraints = [models.UniqueConstraint(fields=["slug", "version"], name="rubric_unique_slug_version")]

    def __str__(self) -> str:
        return f"{self.title} ({self.slug} {self.version})"

    @property
    def effective_exemption_points(self) -> Decimal:
        if self.exemption_points is not None:
            return Decimal(self.exemption_points)
        return max((Decimal(str(value)) for value in self.points.values()), default=Decimal(0))

    def points_for(self, status: str) -> Decimal:
        """Points of a counted status (an approved exemption is passed as not_applicable)."""
        if status == AnswerStatus.NOT_APPLICABLE:
            return self.effective_exemption_points
        return Decimal(str(self.points.get(status, 0)))


class Section(Translatable):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=50)
    title = models.CharField(max_length=200)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["rubric", "order"]
        constraints = [models.UniqueConstraint(fields=["rubric", "key"], name="section_unique_key")]

    def __str__(self) -> str:
        return self.title


class Item(Translatable):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="items")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(max_length=50)
    title = models.CharField(max_length=300)
    guidance = models.TextField(blank=True)
    order = models.PositiveIntegerField()
    allows_not_applicable = models.BooleanField(
        default=True, db_default=True, help_text="Whether a team may answer this item not applicable (an exemption)."
    )

    class Meta:
        ordering = ["section__order", "order"]
        constraints = [models.UniqueConstraint(fields=["rubric", "code"], name="item_unique_code")]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"


class ScoreBand(Translatable):
    """The interval (lower, upper]; a missing bound is open-ended."""

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="bands")
    order = models.PositiveIntegerField()
    lower = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    upper = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    label = models.CharField(max_length=100)
    meaning = models.TextField(blank=True)

    class Meta:
        ordering = ["rubric", "order"]
        constraints = [models.UniqueConstraint(fields=["rubric", "order"], name="band_unique_order")]

    def __str__(self) -> str:
        low = "-inf" if self.lower is None else self.lower
        high = "inf" if self.upper is None else self.upper
        return f"({low}, {high}] {self.label}"
