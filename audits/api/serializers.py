"""Explicit input and output shapes per endpoint. Rules live in audits.services, never here:
input serializers check only the shape of a request (types, lengths), outputs only format."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audits.models import (
    AUDIT_CADENCE_MAX_DAYS,
    AUDIT_CADENCE_MIN_DAYS,
    EVIDENCE_FRESH_MAX_DAYS,
    EVIDENCE_FRESH_MIN_DAYS,
    TAG_MAX_LENGTH,
    TAGS_PER_PROJECT,
    Project,
)
from audits.models.exemptions import (
    DEFAULT_EXPIRY_DAYS,
    JUSTIFICATION_MIN_LENGTH,
    MAX_DECISION_COMMENT_LENGTH,
    MAX_EXPIRY_DAYS,
    Decision,
)
from audits.planning.serializers import NextStepsOutput
from audits.services import MAX_NOTES_LENGTH

EXEMPTION_STATE_HELP = "For not_applicable: pending, approved, rejected or expired; empty otherwise."

# Shared pieces ------------------------------------------------------------------


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(  # type: ignore[assignment]  # the envelope's key, not Serializer.fields
        required=False,
        help_text="Field name, or for a list body the element's index, mapped to its messages.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


class TeamRefOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class RubricRefOutput(serializers.Serializer):
    slug = serializers.CharField()
    version = serializers.CharField()


class BandOutput(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]
    meaning = serializers.CharField()


class NullableModelSerializerMixin:
    """A nested object that renders as null when the instance has nothing to show."""

    empty_attribute: str

    def to_representation(self, instance: Any) -> Any:
        if getattr(instance, self.empty_attribute, None) is None:
            return None
        return super().to_representation(instance)  # type: ignore[misc]


# Rubrics ------------------------------------------------------------------------


class RubricBandOutput(serializers.Serializer):
    lower = serializers.FloatField(allow_null=True)
    upper = serializers.FloatField(allow_null=True)
    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    meaning = serializers.SerializerMethodField()

    def get_label(self, band: Any) -> str:
        return str(band.localized("label"))

    def get_meaning(self, band: Any) -> str:
        return str(band.localized("meaning"))


class RubricItemOutput(serializers.Serializer):
    code = serializers.CharField()
    allows_not_applicable = serializers.BooleanField(help_text="Whether the item may be answered not_applicable.")
    title = serializers.SerializerMethodField()
    guidance = serializers.SerializerMethodField()

    def get_title(self, item: Any) -> str:
        return str(item.localized("title"))

    def get_guidance(self, item: Any) -> str:
        return str(item.localized("guidance"))


class RubricSectionOutput(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.SerializerMethodField()
    items = RubricItemOutput(many=True, source="items.all")

    def get_title(self, section: Any) -> str:
        return str(section.localized("title"))


class RubricQueryInput(serializers.Serializer):
    version = serializers.CharField(required=False, allow_blank=True, max_length=50)


class RubricSummaryOutput(serializers.Serializer):
    slug = serializers.CharField()
    version = serializers.CharField()
    title = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    source = serializers.CharField()  # type: ignore[assignment]
    points = serializers.DictField(child=serializers.FloatField(), help_text="Points per answer status.")
    exemption_points = serializers.FloatField(
        source="effective_exemption_points", help_text="Points an approved not_applicable answer is worth."
    )
    bands = RubricBandOutput(many=True, source="bands.all")
    loaded_at = serializers.DateTimeField()

    def get_title(self, rubric: Any) -> str:
        return str(rubric.localized("title"))

    def get_description(self, rubric: Any) -> str:
        return str(rubric.localized("description"))


class RubricDetailOutput(RubricSummaryOutput):
    versions = serializers.ListField(
        child=serializers.CharField(), help_text="Every loaded version of this rubric, newest first."
    )
    sections = RubricSectionOutput(many=True, source="sections.all")


# Projects -----------------------------------------------------------------------


class TagNamesInput(serializers.ListField):
    """Tag names; shown from a project's tags when the browsable API prefills its form."""

    def to_representation(self, data: Any) -> Any:
        if hasattr(data, "all"):
            data = [tag.slug for tag in data.all()]
        return super().to_representation(data)


def freshness_days(answer: str) -> serializers.IntegerField:
    """A freshness window (audits.models.freshness): its limits are the model field's."""
    return serializers.IntegerField(
        required=False,
        min_value=EVIDENCE_FRESH_MIN_DAYS,
        max_value=EVIDENCE_FRESH_MAX_DAYS,
        help_text=f"{answer} answer accepted from evidence is stale when its source has not confirmed it for this "
        "many days.",
    )


def _project_max_length(name: str) -> int | None:
    """A project's text limits are the model's columns: the API refuses what the database would."""
    column = Project._meta.get_field(name)
    assert isinstance(column, models.CharField), name  # SlugField is a CharField
    return column.max_length


class ProjectFieldsInput(serializers.Serializer):
    """The fields a project is created and updated with, each optional here (an update sends what changes)."""

    name = serializers.CharField(required=False, max_length=_project_max_length("name"))
    description = serializers.CharField(required=False, allow_blank=True)
    owner_contact = serializers.CharField(
        required=False, allow_blank=True, max_length=_project_max_length("owner_contact")
    )
    audit_cadence_days = serializers.IntegerField(
        required=False, min_value=AUDIT_CADENCE_MIN_DAYS, max_value=AUDIT_CADENCE_MAX_DAYS
    )
    badge_public = serializers.BooleanField(required=False)
    tags = TagNamesInput(
        child=serializers.CharField(max_length=TAG_MAX_LENGTH),
        required=False,
        max_length=TAGS_PER_PROJECT,
        help_text="The project's tags (replacing the ones it has); new ones are created.",
    )
    evidence_fresh_days_automated = freshness_days("An automated")
    evidence_fresh_days_manual = freshness_days("A manual")


class ProjectCreateInput(ProjectFieldsInput):
    name = serializers.CharField(max_length=_project_max_length("name"))
    team = serializers.SlugField(max_length=100, help_text="Slug of a team you manage.")
    slug = serializers.SlugField(
        max_length=_project_max_length("slug"), required=False, help_text="Chosen from the name when left out."
    )


class ProjectUpdateInput(ProjectFieldsInput):
    pass


class LatestScoreOutput(NullableModelSerializerMixin, serializers.Serializer):
    empty_attribute = "latest_audit_id"

    audit = serializers.IntegerField(source="latest_audit_id")
    final = serializers.FloatField(source="latest_final")
    band = serializers.CharField(source="latest_band")
    submitted_at = serializers.DateTimeField(source="latest_submitted_at")


class ProjectOutput(serializers.ModelSerializer):
    team = TeamRefOutput()
    latest = LatestScoreOutput(
        source="*", allow_null=True, read_only=True, help_text="The latest submitted audit; null before the first."
    )
    tags = serializers.SerializerMethodField(help_text="The project's tag slugs.")

    class Meta:
        model = Project
        fields = [
            "slug",
            "name",
            "team",
            "description",
            "owner_contact",
            "audit_cadence_days",
            "badge_public",
            "evidence_fresh_days_automated",
            "evidence_fresh_days_manual",
            "created_at",
            "updated_at",
            "latest",
            "tags",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, project: Project) -> list[str]:
        # project.tags.all() reads the list views' prefetch; sorted like the model's ordering.
        return [tag.slug for tag in project.tags.all()]


# Audits and answers -------------------------------------------------------------


class AuditStartInput(serializers.Serializer):
    rubric = serializers.SlugField(
        required=False, max_length=100, help_text="Rubric slug; the built-in ML Test Score when left out."
    )
    rubric_version = serializers.CharField(
        required=False, max_length=50, help_text="A version of that rubric; the newest loaded when left out."
    )
    copy_from_latest = serializers.BooleanField(
        default=False, help_text="Start from the answers of the project's latest submitted audit."
    )


class AuditSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.CharField(source="project.slug")
    status = serializers.CharField()
    rubric = RubricRefOutput()
    copied_from = serializers.IntegerField(source="copied_from_id", allow_null=True)
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_by = serializers.CharField(source="submitted_by.username", allow_null=True, default=None)
    final = serializers.FloatField(
        source="final_score", allow_null=True, help_text="Frozen at submit; null for a draft (see /score/)."
    )
    band = serializers.CharField(source="band_label", help_text="Frozen at submit; empty for a draft.")


class AnswerInput(serializers.Serializer):
    item = serializers.CharField(max_length=50, help_text="Item code, e.g. data-1.")
    status = serializers.CharField(max_length=20, help_text="not_done, manual, automated or not_applicable.")
    notes = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_NOTES_LENGTH,
        help_text=f"For not_applicable, the justification: at least {JUSTIFICATION_MIN_LENGTH} characters.",
    )
    evidence = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=4000), required=False, help_text="http(s) links."
    )
    expires_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=(
            f"For not_applicable: when the exemption expires (YYYY-MM-DD, not in the past, at most "
            f"{MAX_EXPIRY_DAYS} days ahead); {DEFAULT_EXPIRY_DAYS} days from today when left out."
        ),
    )


class AnswerOutput(serializers.Serializer):
    item = serializers.CharField(source="item.code")
    status = serializers.CharField()
    notes = serializers.CharField()
    evidence = serializers.ListField(child=serializers.CharField())
    carried_over = serializers.BooleanField()
    stale = serializers.BooleanField(default=False, help_text="Accepted from evidence that no longer holds.")
    stale_reason = serializers.CharField(allow_null=True, default=None, help_text="Why; null when not stale.")
    version = serializers.IntegerField()
    answered_by = serializers.CharField(source="answered_by.username", allow_null=True, default=None)
    answered_at = serializers.DateTimeField(allow_null=True)
    exemption_state = serializers.CharField(source="exemption_state_shown", default="", help_text=EXEMPTION_STATE_HELP)
    expires_on = serializers.DateField(allow_null=True)
    decision_by = serializers.CharField(source="decision_by.username", allow_null=True, default=None)
    decision_at = serializers.DateTimeField(allow_null=True)
    decision_comment = serializers.CharField()


class ExemptionDecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.values)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=MAX_DECISION_COMMENT_LENGTH)


class SectionScoreOutput(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    score = serializers.FloatField()
    max = serializers.FloatField()
    answered = serializers.IntegerField()
    total = serializers.IntegerField()


class ScoreOutput(serializers.Serializer):
    audit = serializers.IntegerField()
    status = serializers.CharField()
    final = serializers.FloatField(help_text="Approved, unexpired exemptions count, worth the exemption points.")
    final_strict = serializers.FloatField(help_text="The final score with every exemption counted as not done.")
    exempted = serializers.ListField(
        child=serializers.CharField(), help_text="Codes of the items whose exemption the final score counts."
    )
    pending_exemptions = serializers.IntegerField(help_text="Exemptions waiting for a manager (not counted).")
    band = BandOutput(allow_null=True)
    sections = SectionScoreOutput(many=True)
    weakest = serializers.ListField(child=serializers.CharField(), help_text="Keys of the lowest sections.")
    answered = serializers.IntegerField()
    total = serializers.IntegerField()
    rubric = RubricRefOutput()


class AuditDetailOutput(AuditSummaryOutput):
    answers = AnswerOutput(many=True)
    score = ScoreOutput()


# Trend and portfolio ------------------------------------------------------------


class TrendPointOutput(serializers.Serializer):
    audit = serializers.IntegerField(source="audit_id")
    submitted_at = serializers.DateTimeField()
    submitted_by = serializers.CharField()
    final = serializers.FloatField()
    final_strict = serializers.FloatField(help_text="Frozen at submit: exemptions counted as not done.")
    exempted = serializers.IntegerField(help_text="How many exemptions the final score counts.")
    sections = serializers.DictField(child=serializers.FloatField(), help_text="Section key to score.")


class PortfolioTeamOutput(serializers.Serializer):
    slug = serializers.CharField(source="team_slug")
    name = serializers.CharField(source="team_name")


class PortfolioProjectOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    team = PortfolioTeamOutput(source="*")


class PortfolioRowOutput(serializers.Serializer):
    """Reads an audits.selectors.PortfolioRow, whose project fields are flat."""

    project = PortfolioProjectOutput(source="*")
    latest_audit = serializers.IntegerField(source="latest_audit_id", allow_null=True)
    final = serializers.FloatField(allow_null=True)
    final_strict = serializers.FloatField(allow_null=True, help_text="The final with exemptions counted as not done.")
    exempted = serializers.IntegerField(help_text="How many exemptions the latest final counts.")
    band = BandOutput(allow_null=True)
    previous_final = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True, help_text="final minus the previous submitted audit's final.")
    last_audit_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(help_text="When the next audit is due (last audit, or creation, + cadence).")
    overdue = serializers.BooleanField()


# Export ------------------------------------------------------------------------


class ExportItemOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField(allow_null=True, help_text="null when the item is not answered.")
    exemption_state = serializers.CharField(help_text=EXEMPTION_STATE_HELP)
    expires_on = serializers.DateField(allow_null=True)
    points = serializers.FloatField()
    notes = serializers.CharField()
    evidence = serializers.ListField(child=serializers.CharField())
    answered_by = serializers.CharField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)


class ExportSectionOutput(SectionScoreOutput):
    items = ExportItemOutput(many=True)


class ExportProjectOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    team = TeamRefOutput()


class ExportOutput(serializers.Serializer):
    project = ExportProjectOutput()
    audit = AuditSummaryOutput()
    rubric = RubricRefOutput()
    final = serializers.FloatField()
    final_strict = serializers.FloatField()
    exempted = serializers.ListField(child=serializers.CharField())
    band = BandOutput(allow_null=True)
    weakest = serializers.ListField(child=serializers.CharField())
    sections = ExportSectionOutput(many=True)
    next_steps = NextStepsOutput(help_text="The path to the next band (as GET /audits/{id}/next-steps/ gives it).")


class ExportQueryInput(serializers.Serializer):
    format = serializers.ChoiceField(choices=["json", "csv", "md"], default="json")
