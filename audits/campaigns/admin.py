"""Admin pages for tags and campaigns (registered through audits/admin.py). Writes go through the pages and
the API, whose services check targets and scopes; the admin is for looking and for renaming tags."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audits.models import Campaign, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("slug", "name")
    search_fields = ("slug", "name")
    filter_horizontal = ("projects",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "target_band", "target_score", "starts_on", "due_on", "reminders_checked_on")
    search_fields = ("name", "description")
    list_select_related = ("rubric",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a target is checked against the rubric by audits.campaigns.services

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
