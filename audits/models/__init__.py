"""The audits app's models, one module per area; import them from here.

New areas (notifications, campaigns, …) add a module beside these and one import line below, so
Django registers their models with the audits app and callers keep writing ``from audits.models``.
"""

from audits.models.assignments import ASSIGNABLE_ROLES, ItemAssignment
from audits.models.campaigns import (
    CAMPAIGN_DESCRIPTION_MAX_LENGTH,
    CAMPAIGN_NAME_MAX_LENGTH,
    CAMPAIGN_REMINDER_DAYS,
    TAG_MAX_LENGTH,
    TAGS_PER_PROJECT,
    Campaign,
    Tag,
)
from audits.models.core import (
    AUDIT_CADENCE_MAX_DAYS,
    AUDIT_CADENCE_MIN_DAYS,
    ROLE_RANK,
    Answer,
    AnswerChange,
    Audit,
    AuditStatus,
    Membership,
    MembershipSource,
    Project,
    Role,
    Team,
    effective_role,
)
from audits.models.exemptions import EXEMPTION_STATE_LABELS, EXPIRED, Decision, ExemptionState
from audits.models.freshness import (
    EVIDENCE_FRESH_MAX_DAYS,
    EVIDENCE_FRESH_MIN_DAYS,
    FRESHNESS_FIELDS,
)
from audits.models.notifications import (
    CHANNEL_PAUSE_AFTER_FAILURES,
    ChannelKind,
    Delivery,
    DeliveryState,
    Notification,
    NotificationChannel,
    NotificationEvent,
    NotificationPreference,
    WebhookPayload,
)
from audits.models.sso import GroupRoleMapping, OidcIdentity
from audits.models.tokens import KEY_PREFIX, LAST_USED_RESOLUTION, MAX_NAME_LENGTH, PREFIX_LENGTH, ApiToken

__all__ = [
    "ASSIGNABLE_ROLES",
    "AUDIT_CADENCE_MAX_DAYS",
    "AUDIT_CADENCE_MIN_DAYS",
    "CAMPAIGN_DESCRIPTION_MAX_LENGTH",
    "CAMPAIGN_NAME_MAX_LENGTH",
    "CAMPAIGN_REMINDER_DAYS",
    "CHANNEL_PAUSE_AFTER_FAILURES",
    "EVIDENCE_FRESH_MAX_DAYS",
    "EVIDENCE_FRESH_MIN_DAYS",
    "EXEMPTION_STATE_LABELS",
    "EXPIRED",
    "FRESHNESS_FIELDS",
    "KEY_PREFIX",
    "LAST_USED_RESOLUTION",
    "MAX_NAME_LENGTH",
    "PREFIX_LENGTH",
    "ROLE_RANK",
    "TAGS_PER_PROJECT",
    "TAG_MAX_LENGTH",
    "Answer",
    "AnswerChange",
    "ApiToken",
    "Audit",
    "AuditStatus",
    "Campaign",
    "ChannelKind",
    "Decision",
    "Delivery",
    "DeliveryState",
    "ExemptionState",
    "GroupRoleMapping",
    "ItemAssignment",
    "Membership",
    "MembershipSource",
    "Notification",
    "NotificationChannel",
    "NotificationEvent",
    "NotificationPreference",
    "OidcIdentity",
    "Project",
    "Role",
    "Tag",
    "Team",
    "WebhookPayload",
    "effective_role",
]
