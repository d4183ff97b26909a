"""Output shapes of the next steps (the API's next-steps endpoint and the audit export): scores as strings
("1.5", audits.formatting.plain), statuses as AnswerStatus values, "from"/"to" as the issue names them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from audits.api.fields import ScoreTextField
from audits.planning.selectors import AuditPlan
from rubric.models import AnswerStatus

MAX_TARGET_LENGTH = 100


class NextStepsQueryInput(serializers.Serializer):
    target = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_TARGET_LENGTH,
        help_text="A band label (reached above its lower bound) or a score (reached at it); empty: the next band.",
    )


class ChangeOutput(serializers.Serializer):
    item = serializers.CharField()
    section = serializers.CharField()
    from_status = serializers.ChoiceField(choices=AnswerStatus.choices, source="change.from_status")
    to = serializers.ChoiceField(choices=AnswerStatus.choices, source="change.to_status")
    gain = ScoreTextField(source="change.gain")
    owner = serializers.CharField(allow_null=True, help_text="Username of the item's owner, if it has one.")

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is the key but a Python keyword: declared as from_status, renamed here in place.
        return {("from" if name == "from_status" else name): field for name, field in super().get_fields().items()}


class NextStepsOutput(serializers.Serializer):
    current = ScoreTextField()
    target = ScoreTextField(allow_null=True, help_text="The score to reach; null when every score reaches the band.")
    target_band = serializers.CharField(
        allow_null=True, help_text="The band aimed at (reached above `target`), or null for a score target."
    )
    reachable = serializers.BooleanField()
    changes = ChangeOutput(many=True)
    final_after = ScoreTextField()


def next_steps_payload(found: AuditPlan) -> dict[str, Any]:
    """The plan as NextStepsOutput reads it."""
    plan = found.plan
    changes = [
        {"item": step.change.item, "section": step.change.section, "change": step.change, "owner": step.owner}
        for step in found.steps
    ]
    payload = {
        "current": plan.current,
        "target": plan.target,
        "target_band": plan.band.label if plan.band else None,
        "reachable": plan.reachable,
        "changes": changes,
        "final_after": plan.final_after,
    }
    return payload


def next_steps_data(found: AuditPlan) -> dict[str, Any]:
    return dict(NextStepsOutput(next_steps_payload(found)).data)
