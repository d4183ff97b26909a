"""API tokens: several named keys per user, stored only as a SHA-256 hash.

A key looks like ``mla_<prefix>_<secret>``. The eight-character prefix is stored in clear so a
request's token can be found with one indexed lookup and so people can tell their tokens apart;
the whole key is compared by hash, so a database leak does not leak usable keys. The services that
issue, check and revoke keys are in ``audits/api/tokens.py``.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy

KEY_PREFIX = "mla_"
PREFIX_LENGTH = 8
MAX_NAME_LENGTH = 100
# Recording every request's time would turn each API read into a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A push token may only post CI reports to this one project: the least a CI secret needs.
    push_project = models.ForeignKey(
        "audits.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="push_tokens"
    )

    class Meta:
        app_label = "audits"
        ordering = ["-created_at", "-pk"]
        verbose_name = gettext_lazy("API token")
        verbose_name_plural = gettext_lazy("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({KEY_PREFIX}{self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def display_prefix(self) -> str:
        return f"{KEY_PREFIX}{self.prefix}_…"
