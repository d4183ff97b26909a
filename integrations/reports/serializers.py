"""Input and output shapes of the CI reports API; the rules live in integrations.reports.services."""

from __future__ import annotations

from rest_framework import serializers

from integrations.reports.models import MAX_RUN_FIELD, MAX_URL, ReportKind


class ReportInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    file = serializers.FileField(allow_empty_file=False)
    run_id = serializers.CharField(required=False, allow_blank=True, max_length=MAX_RUN_FIELD)
    run_url = serializers.CharField(required=False, allow_blank=True, max_length=MAX_URL)
    commit = serializers.CharField(required=False, allow_blank=True, max_length=MAX_RUN_FIELD)
    source = serializers.CharField(required=False, allow_blank=True, max_length=100)  # type: ignore[assignment]


class FindingOutput(serializers.Serializer):
    item = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    result = serializers.CharField()
    suggested_status = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
    links = serializers.ListField(child=serializers.CharField())
    checks = serializers.ListField(child=serializers.CharField(), required=False)
    report = serializers.IntegerField(required=False)
    observed_at = serializers.CharField(required=False)


class ReportSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    run_id = serializers.CharField()
    run_url = serializers.CharField()
    commit = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    reported_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    file_name = serializers.CharField()
    file_size = serializers.IntegerField()


class ReportReceivedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    run_id = serializers.CharField()
    created = serializers.BooleanField(help_text="False when this CI run's report was already received.")
    checks = serializers.IntegerField()
    mapped = serializers.IntegerField()
    unmapped = serializers.ListField(
        child=serializers.CharField(), help_text="Names of checks that map to no item (the first 200)."
    )
    unmapped_count = serializers.IntegerField()
    findings = FindingOutput(many=True)


class CheckOutput(serializers.Serializer):
    name = serializers.CharField()
    outcome = serializers.CharField()
    items = serializers.ListField(child=serializers.CharField())
    detail = serializers.CharField()


class ReportDetailOutput(ReportSummaryOutput):
    check_count = serializers.IntegerField()
    checks = CheckOutput(
        many=True, source="parsed_checks", help_text="Every check, read from the file, with the items it maps to now."
    )
    unmapped = serializers.ListField(child=serializers.CharField())
    unmapped_count = serializers.IntegerField()


class MappingInput(serializers.Serializer):
    pattern = serializers.CharField(max_length=200)
    item = serializers.CharField(max_length=50)
    kind = serializers.ChoiceField(choices=[("", ""), *ReportKind.choices], required=False, default="")


class MappingOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    pattern = serializers.CharField()
    item = serializers.CharField(source="item_code")
    kind = serializers.CharField()
