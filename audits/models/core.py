from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from audits.models.exemptions import ExemptionState
from audits.models.freshness import (
    EVIDENCE_FRESH_AUTOMATED_DEFAULT,
    EVIDENCE_FRESH_MANUAL_DEFAULT,
    freshness_validators,
)
from audits.types import User
from rubric.models import AnswerStatus, Item, Rubric


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    MANAGER = "manager", "Manager"


ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.MANAGER: 3}


class Team(models.Model):
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    # The role in force: the higher of the hand-granted role and the role from provider groups. Everything
    # that checks permissions reads this field only.
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    # Roles from the identity provider's groups (audits/sso/services.py sets these at each sign-in). While
    # group_role is empty the membership is entirely hand-granted and `role` is that hand role; once a group
    # grants a role, hand_role keeps what was granted by hand (empty: nothing), so the two stay apart.
    group_role = models.CharField(max_length=20, choices=Role.choices, blank=True, default="")
    hand_role = models.CharField(max_length=20, choices=Role.choices, blank=True, default="")
    group_names = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "user"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def hand_granted_role(self) -> str:
        """The role granted by hand in mlaudit ("" if the membership exists only through groups)."""
        return self.hand_role if self.group_role else self.role

    @property
    def source(self) -> str:
        """MembershipSource.MANUAL, GROUP, or BOTH."""
        if not self.group_role:
            return MembershipSource.MANUAL
        return MembershipSource.BOTH if self.hand_role else MembershipSource.GROUP


class MembershipSource(models.TextChoices):
    MANUAL = "manual", "Granted by hand"
    GROUP = "group", "From provider groups"
    BOTH = "both", "By hand and from provider groups"


def effective_role(*roles: str) -> str:
    """The highest of these roles ("" for none)."""
    present = [role for role in roles if role]
    return max(present, key=lambda role: ROLE_RANK[Role(role)]) if present else ""


# How often a project is audited: at least daily, at most every ten years. The model's validators hold the rule,
# so the browser form (a ModelForm), the API serializer and the services all refuse the same values.
AUDIT_CADENCE_MIN_DAYS, AUDIT_CADENCE_MAX_DAYS = 1, 3650


class Project(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    owner_contact = models.CharField(max_length=200, blank=True, help_text="Who to ask about this system.")
    audit_cadence_days = models.PositiveIntegerField(
        default=90,
        validators=[MinValueValidator(AUDIT_CADENCE_MIN_DAYS), MaxValueValidator(AUDIT_CADENCE_MAX_DAYS)],
        help_text="A project is overdue when its last submitted audit is older than this.",
    )
    badge_public = models.BooleanField(default=False, help_text="Serve the score badge without sign-in.")
    # Freshness windows of answers accepted from evidence (audits.models.freshness, audits.staleness).
    evidence_fresh_days_automated = models.PositiveIntegerField(
        default=EVIDENCE_FRESH_AUTOMATED_DEFAULT,
        validators=freshness_validators(),
        help_text="An automated answer from evidence is stale when its source has not confirmed it for this long.",
    )
    evidence_fresh_days_manual = models.PositiveIntegerField(
        default=EVIDENCE_FRESH_MANUAL_DEFAULT,
        validators=freshness_validators(),
        help_text="A manual answer from evidence is stale when its source has not confirmed it for this long.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The latest and previous submitted audits with their frozen final scores, kept here by
    # audits.services.project_refresh_latest_audits (called by audit_submit) so the portfolio reads a
    # thousand projects' scores from this table alone instead of looking them up among every audit.
    last_audit = models.ForeignKey(
        "Audit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    last_audit_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_audit_final = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, editable=False)
    previous_audit = models.ForeignKey(
        "Audit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    previous_audit_final = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AuditStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class Audit(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="audits")
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="audits")
    status = models.CharField(max_length=20, choices=AuditStatus.choices, default=AuditStatus.DRAFT)
    copied_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Frozen at submit, so later rubric or scoring changes never rewrite history.
    final_score = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    section_scores = models.JSONField(default=dict, blank=True)
    band_label = models.CharField(max_length=100, blank=True)
    # Also frozen at submit: the final score with every exemption counted as not done, and how many
    # exemptions the final score includes (the trend, the portfolio and the badge read these columns).
    final_strict_score = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    exempted_count = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "status", "submitted_at"], name="audit_project_submitted"),
            # Dashboards: each project's latest (and previous) submitted audit is the first entry of this
            # index, newest first, with no sort step; trends read the same entries oldest first.
            models.Index(
                fields=["project", "-submitted_at", "-id"],
                condition=models.Q(status="submitted"),
                name="audit_project_latest_submitted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} audit #{self.pk} ({self.status})"

    @property
    def is_submitted(self) -> bool:
        return self.status == AuditStatus.SUBMITTED


class Answer(models.Model):
    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=AnswerStatus.choices)
    notes = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True, help_text="List of http(s) URLs.")
    carried_over = models.BooleanField(
        default=False, help_text="Copied from the previous audit and not yet re-confirmed."
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every save; a save based on an older version is a conflict.
    version = models.PositiveIntegerField(default=1)
    # An exemption (status not_applicable): see audits/models/exemptions.py and audits/exemptions/.
    expires_on = models.DateField(null=True, blank=True)
    # db_default too: bulk loaders that COPY rows (seed_benchmark) leave these columns out.
    exemption_state = models.CharField(
        max_length=20, choices=ExemptionState.choices, blank=True, default="", db_default=""
    )
    exemption_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True, default="", db_default="")

    class Meta:
        ordering = ["audit", "item__section__order", "item__order"]
        constraints = [models.UniqueConstraint(fields=["audit", "item"], name="answer_unique_audit_item")]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.status}"


class AnswerChange(models.Model):
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    status_before = models.CharField(max_length=20, blank=True)
    status_after = models.CharField(max_length=20)
    notes_before = models.TextField(blank=True)
    notes_after = models.TextField(blank=True)
    evidence_before = models.JSONField(default=list, blank=True)
    evidence_after = models.JSONField(default=list, blank=True)
    # Exemptions: a request (state "" -> pending) and a decision (pending -> approved/rejected, with comment).
    exemption_before = models.CharField(max_length=20, blank=True, default="", db_default="")
    exemption_after = models.CharField(max_length=20, blank=True, default="", db_default="")
    expires_on_before = models.DateField(null=True, blank=True)
    expires_on_after = models.DateField(null=True, blank=True)
    comment = models.TextField(blank=True, default="", db_default="")

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.answer.item.code}: {self.status_before or '-'} -> {self.status_after}"

    # What one entry records of an answer: the entry's field prefix -> the answer's attribute.
    RECORDED: ClassVar[dict[str, str]] = {
        "status": "status",
        "notes": "notes",
        "evidence": "evidence",
        "exemption": "exemption_state",
        "expires_on": "expires_on",
    }

    @classmethod
    def record(
        cls, *, answer: Answer, changed_by: User, new: bool = False, comment: str = "", **after: Any
    ) -> AnswerChange:
        """One entry of `answer`'s history, written before the answer itself changes: what it holds now
        (nothing for a `new` answer) and what it will hold, `after` by RECORDED name (a name left out does
        not change)."""
        unknown = set(after) - set(cls.RECORDED)
        if unknown:
            raise TypeError(f"AnswerChange records no {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, attribute in cls.RECORDED.items():
            now = getattr(answer, attribute)
            if not new:
                values[f"{name}_before"] = now
            values[f"{name}_after"] = after.get(name, now)
        return cls.objects.create(answer=answer, changed_by=changed_by, comment=comment, **values)
