"""Exemptions: an answer `not_applicable` with a justification, an expiry and a manager's decision.

The limits are defined here once; the services enforce them and the forms, serializers and templates
import them for their help texts.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# A justification is the answer's notes: long enough to say why the test does not apply.
JUSTIFICATION_MIN_LENGTH = 20
# An exemption expires, so it is looked at again: by default in about six months, at the latest in two years.
DEFAULT_EXPIRY_DAYS = 180
MAX_EXPIRY_DAYS = 730
MAX_DECISION_COMMENT_LENGTH = 2000
# The project page flags exemptions expiring within this many days (and the notification is sent then).
EXPIRING_SOON_DAYS = 14


class ExemptionState(models.TextChoices):
    """What is stored on an answer. *Expired* is not stored: an approved or pending exemption whose
    expires_on is before today is expired (see audits.exemptions.rules.exemption_state)."""

    NONE = "", _("No exemption")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


EXPIRED = "expired"
EXEMPTION_STATE_LABELS = {**dict(ExemptionState.choices), EXPIRED: _("Expired")}


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


def default_expiry(today: date) -> date:
    return today + timedelta(days=DEFAULT_EXPIRY_DAYS)


def latest_expiry(today: date) -> date:
    return today + timedelta(days=MAX_EXPIRY_DAYS)


def validate_justification(notes: str) -> None:
    if len((notes or "").strip()) < JUSTIFICATION_MIN_LENGTH:
        raise ValidationError(
            {
                "notes": [
                    gettext("Say in the notes why this test does not apply (at least %(n)s characters).")
                    % {"n": JUSTIFICATION_MIN_LENGTH}
                ]
            }
        )


def validate_expiry(expires_on: date, today: date) -> None:
    if expires_on < today:
        raise ValidationError({"expires_on": [gettext("The expiry date must not be in the past.")]})
    if expires_on > latest_expiry(today):
        raise ValidationError(
            {
                "expires_on": [
                    gettext("An exemption expires within %(n)s days at most (by %(date)s).")
                    % {"n": MAX_EXPIRY_DAYS, "date": latest_expiry(today).isoformat()}
                ]
            }
        )
