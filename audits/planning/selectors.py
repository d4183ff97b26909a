"""Reads for next steps: the plan of one audit, with item titles, owners and evidence.

A fixed number of queries whatever the audit holds: its answers, its owners, and each evidence source's
findings for the project (asked once each). Rubric texts come from the per-process label cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from audits.assignments.selectors import item_owners
from audits.dashboards.selectors import rubric_labels
from audits.models import Audit
from audits.selectors import audit_status_map
from evidence.sources import project_findings
from rubric.models import status_label
from rubric.planning import LADDER, Change, Plan, UnknownBandError, band_by_label, next_steps
from rubric.scoring import BandSpec
from rubric.selectors import rubric_spec

# A score target is a plain number: this many significant digits and decimals at most, so "1e999999" or
# "1e-999999" is refused rather than printed back a million digits long.
MAX_TARGET_DIGITS = 12
MAX_TARGET_DECIMALS = 6


@dataclass(frozen=True)
class Step:
    change: Change
    title: str
    section_title: str
    owner: str | None  # username

    @property
    def from_label(self) -> str:
        return status_label(self.change.from_status, short=True)

    @property
    def to_label(self) -> str:
        return status_label(self.change.to_status, short=True)


@dataclass(frozen=True)
class SectionSteps:
    key: str
    title: str
    steps: list[Step]


@dataclass(frozen=True)
class AuditPlan:
    plan: Plan
    steps: list[Step]
    band_title: str  # the target band in the active language, "" for a score target

    @property
    def sections(self) -> list[SectionSteps]:
        grouped: dict[str, SectionSteps] = {}
        for step in self.steps:
            key = step.change.section
            grouped.setdefault(key, SectionSteps(key, step.section_title, [])).steps.append(step)
        return list(grouped.values())


def parse_target(audit: Audit, text: str | None) -> Decimal | BandSpec | None:
    """A target from a query string: empty for the next band, a score, or a band label of the audit's
    rubric. Raises ValidationError naming `target` otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    spec = rubric_spec(audit.rubric)
    try:
        number = Decimal(text)
    except InvalidOperation:
        try:
            return band_by_label(spec, text)
        except UnknownBandError:
            labels = ", ".join(band.label for band in spec.bands)
            message = _("“%(target)s” is neither a score nor a band of this rubric (%(bands)s).")
            raise ValidationError({"target": [message % {"target": text, "bands": labels}]}) from None
    shape = number.as_tuple()
    too_fine = isinstance(shape.exponent, int) and shape.exponent < -MAX_TARGET_DECIMALS
    if not number.is_finite() or len(shape.digits) > MAX_TARGET_DIGITS or too_fine or abs(number) >= 10**6:
        message = _("A score target is a number below 1000000 with at most %(n)s decimals.")
        raise ValidationError({"target": [message % {"n": MAX_TARGET_DECIMALS}]})
    return number


def evidence_items(audit: Audit, statuses: Mapping[str, str]) -> frozenset[str]:
    """Items where an evidence source suggests a higher answer than the current one."""
    rank = {status: n for n, status in enumerate(LADDER)}
    found = set()
    for finding in project_findings(audit.project):
        current = rank.get(statuses.get(finding.item) or LADDER[0])
        suggested = rank.get(finding.suggested_status)
        if current is not None and suggested is not None and suggested > current:
            found.add(finding.item)
    return frozenset(found)


def _titles(audit: Audit) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    labels = rubric_labels(audit.rubric)
    items = {
        item.code: (str(item.localized("title")), labels.section_titles.get(item.section.key, item.section.title))
        for item in labels.items
    }
    return items, {band.label: band.title for band in labels.bands}


def plan_for_statuses(
    audit: Audit,
    statuses: Mapping[str, str],
    target: Decimal | BandSpec | None = None,
    evidence: frozenset[str] = frozenset(),
    owners: Mapping[str, str] | None = None,
) -> AuditPlan:
    """The plan from statuses the caller has already read (the questionnaire's page and saves): no query."""
    plan = next_steps(rubric_spec(audit.rubric), statuses, target, evidence)
    items, bands = _titles(audit)
    owners = owners or {}
    steps = [
        Step(change, *items.get(change.item, (change.item, change.section)), owners.get(change.item))
        for change in plan.changes
    ]
    band_title = bands.get(plan.band.label, plan.band.label) if plan.band else ""
    return AuditPlan(plan=plan, steps=steps, band_title=band_title)


def audit_next_steps(
    *, audit: Audit, target: Decimal | BandSpec | None = None, statuses: Mapping[str, str] | None = None
) -> AuditPlan:
    """The audit's plan to `target` (None: the next band) with owners, evidence first among equals.
    `statuses` (item code -> status) when the caller has read the answers already."""
    if statuses is None:
        statuses = audit_status_map(audit=audit)
    owners = {code: owner.username for code, owner in item_owners(audit=audit).items()}
    return plan_for_statuses(audit, statuses, target, evidence_items(audit, statuses), owners)
