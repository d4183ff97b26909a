"""Owners per item: in a draft, one team member (editor or manager) answers for each rubric item.

A separate table rather than a column on Answer: an item can have an owner before anyone answers it, and
the answer's save path (the questionnaire's hot path) stays as it is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from audits.models.core import ROLE_RANK, Audit, Role
from rubric.models import Item

# Who may own items: the roles that may answer them.
ASSIGNABLE_ROLES = tuple(role.value for role in Role if ROLE_RANK[role] >= ROLE_RANK[Role.EDITOR])


class ItemAssignment(models.Model):
    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="assignments")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="item_assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["audit", "item__section__order", "item__order"]
        constraints = [models.UniqueConstraint(fields=["audit", "item"], name="assignment_unique_audit_item")]
        indexes = [models.Index(fields=["assignee", "audit"], name="assignment_assignee_audit")]

    def __str__(self) -> str:
        return f"{self.item.code} of audit {self.audit_id}: {self.assignee}"
