"""Query filters for the API lists and the portfolio page (django-filter), each with its documented ordering.

ProjectFilter is the one way projects are filtered and sorted: the API's project and portfolio lists and
the portfolio page all apply it, so `?team=`, `?band=`, `?tag=` and `?ordering=` mean the same everywhere.

Ordering takes one or more comma-separated fields, `-` first for descending (`?ordering=-score,name`);
empty values sort last either way, and ties are broken by id so pages never overlap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, Exists, F, Func, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from audits.models import Audit, AuditStatus, Project, Tag


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


class NextAuditDue(Func):
    """When a project's next audit is due: its cadence after the last submitted audit, else after its
    creation (audits.selectors.next_audit_due, in SQL so lists sort by it before paging)."""

    output_field = DateTimeField()
    # PostgreSQL: timestamp + interval '1 day' * days.
    template = "(%(expressions)s)"
    arg_joiner = " + interval '1 day' * "

    def __init__(self) -> None:
        super().__init__(Coalesce(F("last_audit_at"), F("created_at")), F("audit_cadence_days"))

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # The demo's SQLite: datetime(start, '+' || days || ' days').
        return self.as_sql(
            compiler, connection, template="datetime(%(expressions)s || ' days')", arg_joiner=", '+' || "
        )


# Orderings that are computed rather than read from a column or an annotation.
ORDERING_EXPRESSIONS: dict[str, Any] = {
    "latest_change": F("last_audit_final") - F("previous_audit_final"),
    "next_due_at": NextAuditDue(),
}


class StableOrderingFilter(django_filters.OrderingFilter):
    """Empty values (a project never audited has no score) sort last both ways; ties by id."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        orderings = []
        for param in value:
            field = self.get_ordering_value(param)
            name = field.lstrip("-")
            expression = ORDERING_EXPRESSIONS.get(name, F(name))
            orderings.append(
                expression.desc(nulls_last=True) if field.startswith("-") else expression.asc(nulls_last=True)
            )
        return qs.order_by(*orderings, "pk")


class ProjectFilter(django_filters.FilterSet):
    team = django_filters.CharFilter(field_name="team__slug", help_text=_("Only projects of the team with this slug."))
    band = django_filters.CharFilter(
        method="filter_band",
        help_text=_("Label of the latest submitted audit's band, case-insensitive (e.g. “Reasonably tested”)."),
    )
    tag = django_filters.CharFilter(method="filter_tag", help_text=_("Only projects with the tag of this slug."))
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
            ("latest_change", "change"),
            ("latest_submitted_at", "last_audit"),
            ("next_due_at", "due"),
        ),
        help_text=_(
            "name, slug, created, updated, score, change (since the previous audit), last_audit or due (the next "
            "audit); prefix “-” for descending."
        ),
    )

    class Meta:
        model = Project
        fields: list[str] = []

    def filter_band(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        return queryset.filter(latest_band__iexact=value.strip())  # type: ignore[misc]  # an annotation

    def filter_tag(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        tagged = Tag.projects.through.objects.filter(project_id=OuterRef("pk"), tag__slug=value.strip())
        return queryset.filter(Exists(tagged))

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
