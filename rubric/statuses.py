"""The answer statuses' values, defined once and free of Django.

The pure modules (rubric.scoring, rubric.planning, evidence.levels, evidence.staleness) compare answers by
these values without loading Django's settings; rubric.models.AnswerStatus gives the same values their
translated labels for every interface.
"""

from __future__ import annotations

NOT_DONE = "not_done"
MANUAL = "manual"
AUTOMATED = "automated"
# An exemption: it needs a justification and an expiry, and counts only once a manager approves it.
NOT_APPLICABLE = "not_applicable"

# The statuses a rubric gives points to and a plan moves an answer along, lowest first.
LADDER: tuple[str, ...] = (NOT_DONE, MANUAL, AUTOMATED)
