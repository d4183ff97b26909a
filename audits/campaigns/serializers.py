"""Explicit input and output shapes of the campaigns API; the rules are in audits.campaigns.services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audits.models import CAMPAIGN_DESCRIPTION_MAX_LENGTH, CAMPAIGN_NAME_MAX_LENGTH, TAG_MAX_LENGTH, Campaign

MAX_SCOPE_ENTRIES = 200  # teams or tags named by one campaign


class CampaignInput(serializers.Serializer):
    name = serializers.CharField(max_length=CAMPAIGN_NAME_MAX_LENGTH)
    description = serializers.CharField(required=False, allow_blank=True, max_length=CAMPAIGN_DESCRIPTION_MAX_LENGTH)
    target = serializers.CharField(
        max_length=100, help_text="A band label (that band or a better one) or a minimum final score, e.g. “2”."
    )
    teams = serializers.ListField(
        child=serializers.SlugField(max_length=100),
        required=False,
        max_length=MAX_SCOPE_ENTRIES,
        help_text="Slugs of teams you manage (staff: any team).",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_LENGTH),
        required=False,
        max_length=MAX_SCOPE_ENTRIES,
        help_text="Tag slugs: only projects with one of them.",
    )
    starts_on = serializers.DateField()
    due_on = serializers.DateField()


class CampaignOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    target = serializers.SerializerMethodField(help_text="The band label or the minimum final score.")
    teams = serializers.SerializerMethodField(help_text="Team slugs.")
    tags = serializers.SerializerMethodField(help_text="Tag slugs.")
    starts_on = serializers.DateField()
    due_on = serializers.DateField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_teams(self, campaign: Campaign) -> list[str]:
        return [team.slug for team in campaign.teams.all()]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, campaign: Campaign) -> list[str]:
        return [tag.slug for tag in campaign.tags.all()]

    def get_target(self, campaign: Campaign) -> str:
        from audits.campaigns.selectors import campaign_target

        return campaign_target(campaign).api_value


class ProjectProgressOutput(serializers.Serializer):
    project = serializers.CharField(source="slug", help_text="The project's slug.")
    final = serializers.FloatField(allow_null=True, help_text="The latest submitted audit's final score.")
    met = serializers.BooleanField()
    next_steps_count = serializers.IntegerField(
        allow_null=True, help_text="Answers to change to meet the target (0 when met); null when none can."
    )


class ProgressOutput(serializers.Serializer):
    projects = ProjectProgressOutput(many=True)
    total = serializers.IntegerField()
    met = serializers.IntegerField()
