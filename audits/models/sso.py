"""Single sign-on: who a provider's subject is here, and which provider groups grant which team roles."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from audits.models.core import Role, Team

# OpenID Connect allows a subject of up to 255 ASCII characters; issuers are URLs.
SUBJECT_MAX_LENGTH = 255
ISSUER_MAX_LENGTH = 500
GROUP_NAME_MAX_LENGTH = 255


class OidcIdentity(models.Model):
    """A user as the provider knows them. Sign-in matches on (issuer, subject) only, never on the email
    address or username, which a provider lets people change. Administrators may add one by hand to link an
    existing local account before its owner first signs in through the provider."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities")
    issuer = models.CharField(max_length=ISSUER_MAX_LENGTH)
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    # The provider groups seen at the last sign-in, as sent (None: the claim was missing or malformed).
    last_groups = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique_subject")]

    def __str__(self) -> str:
        return f"{self.user} ({self.subject} at {self.issuer})"


class GroupRoleMapping(models.Model):
    """Members of `group` get `role` in `team` (edited in the admin; MLAUDIT_OIDC_GROUP_ROLES adds more)."""

    group = models.CharField(max_length=GROUP_NAME_MAX_LENGTH)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="group_role_mappings")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["group", "team"]
        constraints = [models.UniqueConstraint(fields=["group", "team"], name="group_role_mapping_unique")]

    def __str__(self) -> str:
        return f"{self.group} → {self.team} ({self.role})"
