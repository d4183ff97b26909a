"""{% report_findings audit code as findings %}: the CI report findings of one item (read once per page)."""

from __future__ import annotations

from django import template

from audits.models import Audit
from evidence.sources import EvidenceFinding
from integrations.reports.selectors import evidence_findings

register = template.Library()


@register.simple_tag
def report_findings(audit: Audit, item_code: str) -> list[EvidenceFinding]:
    # Memoised on the audit object the page passes to every item: one read of the reports per page.
    cached = audit.__dict__.get("_report_findings")
    if cached is None:
        cached = {}
        for finding in evidence_findings(audit.project):
            cached.setdefault(finding.item, []).append(finding)
        audit.__dict__["_report_findings"] = cached
    return cached.get(item_code, [])
