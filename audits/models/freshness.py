"""How long an answer accepted from evidence holds without its source confirming it again (per project).

The limits are the model fields' validators, so the project form (a ModelForm), the API serializers and the
services refuse the same values. *Automated* defaults to 30 days: a check that "runs automatically and
repeatedly" and has not been seen for a month is not running. *Manual* defaults to 90 days: a check done by
hand is expected about once a quarter (the paper's audits are quarterly). Both lie between 1 day and 2 years.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator

from rubric.statuses import AUTOMATED, MANUAL

EVIDENCE_FRESH_MIN_DAYS, EVIDENCE_FRESH_MAX_DAYS = 1, 730
EVIDENCE_FRESH_AUTOMATED_DEFAULT, EVIDENCE_FRESH_MANUAL_DEFAULT = 30, 90
# The project fields holding each window, by answer status.
FRESHNESS_FIELDS = {AUTOMATED: "evidence_fresh_days_automated", MANUAL: "evidence_fresh_days_manual"}


def freshness_validators() -> list:
    return [MinValueValidator(EVIDENCE_FRESH_MIN_DAYS), MaxValueValidator(EVIDENCE_FRESH_MAX_DAYS)]
