"""Admin views of notifications, for operators: channels, events and the delivery ledger (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from audits.models import Delivery, Notification, NotificationChannel


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NotificationChannel)
class NotificationChannelAdmin(_ReadOnly):
    # Read-only (deletable): managers change channels on the team's page or the API, where the URL passes the
    # address guard and a webhook's secret is made and shown once. The secret is never shown here.
    list_display = ("team", "kind", "address", "url", "payload", "consecutive_failures", "paused_at")
    list_filter = ("kind", "team")
    search_fields = ("address", "url", "team__name")
    list_select_related = ("team",)
    exclude = ("secret_encrypted",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, without a warning


@admin.register(Notification)
class NotificationAdmin(_ReadOnly):
    list_display = ("created_at", "event", "team", "project", "key")
    list_filter = ("event", "team")
    search_fields = ("key", "project__name")
    list_select_related = ("team", "project")


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = ("created_at", "notification", "channel", "recipient", "state", "attempts", "last_error")
    list_filter = ("state",)
    list_select_related = ("notification", "channel", "recipient")
