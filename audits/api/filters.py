"""Query filters for the API lists (django-filter), each with its documented ordering.

Ordering takes one or more comma-separated fields, `-` first for descending (`?ordering=-score,name`);
empty values sort last either way, and ties are broken by id so pages never overlap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from audits.models import Audit, AuditStatus, Project


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time converted to UTC, since the database accepts only offsets below 16 hours."""

    def clean(self, value: Any) -> datetime | None:
        parsed = super().clean(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError(_("This time is out of range."), code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StableOrderingFilter(django_filters.OrderingFilter):
    """Empty values (a project never audited has no score) sort last both ways; ties by id."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        fields = [self.get_ordering_value(param) for param in value]
        return qs.order_by(
            *(
                F(field[1:]).desc(nulls_last=True) if field.startswith("-") else F(field).asc(nulls_last=True)
                for field in fields
            ),
            "pk",
        )


class ProjectFilter(django_filters.FilterSet):
    team = django_filters.CharFilter(field_name="team__slug", help_text=_("Only projects of the team with this slug."))
    band = django_filters.CharFilter(
        method="filter_band",
        help_text=_("Label of the latest submitted audit's band, case-insensitive (e.g. “Reasonably tested”)."),
    )
    updated_since = UtcIsoDateTimeFilter(
        method="filter_updated_since",
        help_text=_("Projects changed, or with an audit changed, at or after this ISO 8601 time."),
    )
    ordering = StableOrderingFilter(
        fields=(
            ("name", "name"),
            ("slug", "slug"),
            ("created_at", "created"),
            ("updated_at", "updated"),
            ("latest_final", "score"),
            ("latest_submitted_at", "last_audit"),
        ),
        help_text=_("name, slug, created, updated, score or last_audit; prefix “-” for descending."),
    )

    class Meta:
        model = Project
        fields: list[str] = []

    def filter_band(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        return queryset.filter(latest_band__iexact=value.strip())  # type: ignore[misc]  # an annotation

    def filter_updated_since(self, queryset: QuerySet[Project], name: str, value: datetime) -> QuerySet[Project]:
        audit_changed = Audit.objects.filter(project=OuterRef("pk"), updated_at__gte=value)
        return queryset.filter(Q(updated_at__gte=value) | Q(Exists(audit_changed)))


class AuditFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AuditStatus.choices, help_text=_("draft or submitted."))
    updated_since = UtcIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text=_("Audits changed at or after this ISO 8601 time.")
    )
    ordering = StableOrderingFilter(
        fields=(("created_at", "created"), ("updated_at", "updated"), ("submitted_at", "submitted")),
        help_text=_("created, updated or submitted; prefix “-” for descending. Newest first by default."),
    )

    class Meta:
        model = Audit
        fields: list[str] = []
