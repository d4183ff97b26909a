"""Notifications: the events mlaudit tells teams about, the channels that carry them and the delivery ledger.

A `Notification` is one event (unique per team by its `key`); a `Delivery` is that event sent to one channel
(or one user's address). The ledger's unique constraints are what make Celery retries, redelivered messages
and beat re-runs send each event at most once per channel.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.models.core import Audit, Project, Team


class NotificationEvent(models.TextChoices):
    """The one vocabulary of events; producers pass these values to audits.notifications.notify."""

    REGRESSION = "regression", _("Score regression")
    AUDIT_DUE = "audit_due", _("Audit due")
    AUDIT_OVERDUE = "audit_overdue", _("Audit overdue")
    EXEMPTION_EXPIRING = "exemption_expiring", _("Exemption expiring")
    LIVE_SCORE_DROP = "live_score_drop", _("Live score below the audited score")
    SOURCE_FAILING = "source_failing", _("Evidence source failing")
    DIGEST = "digest", _("Weekly digest")
    CAMPAIGN_REMINDER = "campaign_reminder", _("Campaign reminder")
    ITEM_ASSIGNED = "item_assigned", _("Item assigned")


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


class WebhookPayload(models.TextChoices):
    JSON = "json", _("Signed JSON")
    SLACK = "slack", _("Slack incoming webhook")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


# A channel whose deliveries fail this many times in a row (each after its retries) is paused until a manager
# resumes it, so a dead endpoint stops costing retries and the team sees why nothing arrives.
CHANNEL_PAUSE_AFTER_FAILURES = 3
CHANNEL_URL_MAX_LENGTH = 2000
DELIVERY_ERROR_MAX_LENGTH = 1000


class NotificationChannel(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="notification_channels")
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    address = models.EmailField(blank=True, help_text="For email channels.")
    url = models.URLField(max_length=CHANNEL_URL_MAX_LENGTH, blank=True, help_text="For webhook channels.")
    payload = models.CharField(max_length=20, choices=WebhookPayload.choices, blank=True)
    # The webhook's signing secret, Fernet-encrypted (integrations.mlflow.crypto); shown once when created.
    secret_encrypted = models.TextField(blank=True, editable=False)
    events = models.JSONField(default=list, help_text="NotificationEvent values this channel receives.")
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_reason = models.TextField(blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target}"

    @property
    def target(self) -> str:
        return self.address if self.kind == ChannelKind.EMAIL else self.url

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class Notification(models.Model):
    """One event, recorded once per team and key whatever the number of calls to notify()."""

    event = models.CharField(max_length=40, choices=NotificationEvent.choices)
    key = models.CharField(max_length=200)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="notifications")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    audit = models.ForeignKey(Audit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "team", "key"], name="notification_unique_event_team_key")
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.key}"


class Delivery(models.Model):
    """The ledger: one event to one channel, or to one user's address (notify(recipients=…))."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(
        NotificationChannel, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=DELIVERY_ERROR_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"],
                condition=models.Q(channel__isnull=False),
                name="delivery_unique_notification_channel",
            ),
            models.UniqueConstraint(
                fields=["notification", "recipient"],
                condition=models.Q(recipient__isnull=False),
                name="delivery_unique_notification_recipient",
            ),
            models.CheckConstraint(
                condition=models.Q(channel__isnull=True) ^ models.Q(recipient__isnull=True),
                name="delivery_channel_xor_recipient",
            ),
        ]
        indexes = [models.Index(fields=["channel", "-created_at"], name="delivery_channel_recent")]

    def __str__(self) -> str:
        return f"{self.notification} -> {self.channel or self.recipient} ({self.state})"


class NotificationPreference(models.Model):
    """A user's own choices; today one: no notification email to their address."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_opt_out = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: email {'off' if self.email_opt_out else 'on'}"
