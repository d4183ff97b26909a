from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audits.models import Answer, AnswerChange, Audit, GroupRoleMapping, Membership, OidcIdentity, Project, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ("user",)
    fields = ("user", "role", "group_role", "group_names")
    readonly_fields = ("group_role", "group_names")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role", "group_role", "hand_role", "created_at")
    list_filter = ("role", "team")
    # Roles from groups are the provider's: the next sign-in would overwrite an edit here.
    readonly_fields = ("group_role", "group_names")
    search_fields = ("user__username", "user__email", "team__name")
    list_select_related = ("user", "team")
    autocomplete_fields = ("user", "team")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "team", "audit_cadence_days", "badge_public", "updated_at")
    list_filter = ("team", "badge_public")
    search_fields = ("name", "slug", "description", "owner_contact")
    list_select_related = ("team",)
    prepopulated_fields = {"slug": ("name",)}


class FrozenWhenSubmittedMixin:
    """A submitted audit is read-only for everyone, administrators included."""

    def _audit_of(self, obj: Any) -> Audit | None:
        return obj if isinstance(obj, Audit) else getattr(obj, "audit", None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        audit = self._audit_of(obj)
        if audit is not None and audit.is_submitted:
            return False
        return super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        audit = self._audit_of(obj)
        if audit is not None and audit.is_submitted:
            return False
        return super().has_delete_permission(request, obj)  # type: ignore[misc]


class AnswerInline(FrozenWhenSubmittedMixin, admin.TabularInline):
    model = Answer
    extra = 0
    fields = ("item", "status", "notes", "evidence", "carried_over", "answered_by", "answered_at", "version")
    readonly_fields = ("answered_by", "answered_at", "version")
    raw_id_fields = ("item",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.is_submitted)


@admin.register(Audit)
class AuditAdmin(FrozenWhenSubmittedMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "project",
        "rubric",
        "status",
        "final_score",
        "band_label",
        "created_at",
        "submitted_at",
    )
    list_filter = ("status", "rubric", "project__team")
    search_fields = ("project__name", "project__slug")
    list_select_related = ("project", "rubric")
    date_hierarchy = "created_at"
    readonly_fields = (
        "final_score",
        "section_scores",
        "band_label",
        "submitted_by",
        "submitted_at",
        "copied_from",
    )
    raw_id_fields = ("created_by",)
    inlines = [AnswerInline]


@admin.register(Answer)
class AnswerAdmin(FrozenWhenSubmittedMixin, admin.ModelAdmin):
    list_display = ("audit", "item", "status", "carried_over", "answered_by", "answered_at")
    list_filter = ("status", "carried_over", "audit__project__team")
    search_fields = ("item__code", "item__title", "notes", "audit__project__name")
    list_select_related = ("audit__project", "item", "answered_by")
    raw_id_fields = ("audit", "item", "answered_by")


@admin.register(AnswerChange)
class AnswerChangeAdmin(admin.ModelAdmin):
    list_display = ("answer", "changed_by", "changed_at", "status_before", "status_after")
    list_filter = ("status_after",)
    search_fields = ("answer__item__code", "notes_after", "changed_by__username")
    list_select_related = ("answer__item", "changed_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # history is written by the services, never by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Tags and campaigns, defined with their feature (audits/campaigns/admin.py).
from audits.campaigns import admin as campaign_admin  # noqa: E402, F401

# Notifications' admin lives with the feature; importing it registers it.
from audits.notifications import admin as notification_admin  # noqa: E402, F401


@admin.register(OidcIdentity)
class OidcIdentityAdmin(admin.ModelAdmin):
    """Add one to link an existing account to its provider subject before its owner first signs in."""

    list_display = ("user", "subject", "issuer", "last_sign_in_at")
    search_fields = ("user__username", "user__email", "subject")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at", "last_sign_in_at", "last_groups")


@admin.register(GroupRoleMapping)
class GroupRoleMappingAdmin(admin.ModelAdmin):
    """Provider group → team role, applied at each sign-in (beside MLAUDIT_OIDC_GROUP_ROLES)."""

    list_display = ("group", "team", "role")
    list_filter = ("role", "team")
    search_fields = ("group", "team__name")
    list_select_related = ("team",)
    autocomplete_fields = ("team",)
