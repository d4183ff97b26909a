"""Reads for CI reports: a project's reports, its mapping rules and the findings they make."""

from __future__ import annotations

import gzip

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from audits.models import Project
from evidence.sources import EvidenceFinding
from integrations.reports import findings as findings_module
from integrations.reports.mapping import Rule, map_checks
from integrations.reports.models import Report, ReportKind, ReportMapping
from integrations.reports.parsers import Check, parse
from rubric.models import Item


def item_codes() -> set[str]:
    """Every item code of every loaded rubric: a check may name any of them."""
    return set(Item.objects.values_list("code", flat=True).distinct())


def mapping_rules(*, project: Project) -> list[Rule]:
    return [
        Rule(pattern=m.pattern, item_code=m.item_code, kind=m.kind)
        for m in ReportMapping.objects.filter(project=project)
    ]


def project_mappings(*, project: Project) -> QuerySet[ReportMapping]:
    return ReportMapping.objects.filter(project=project)


def project_reports(*, project: Project) -> QuerySet[Report]:
    # The raw file stays in the database until someone downloads it.
    return Report.objects.filter(project=project).defer("raw", "checks", "unmapped")


def latest_report_per_kind(*, project: Project) -> list[Report]:
    """The newest report of each kind (four queries at most: one per kind)."""
    latest = []
    for kind in ReportKind.values:
        report = Report.objects.filter(project=project, kind=kind).order_by("-reported_at", "-pk").first()
        if report is not None:
            latest.append(report)
    return latest


def report_checks(report: Report) -> list[Check]:
    return [
        Check(name=c["name"], outcome=c["outcome"], items=tuple(c.get("items") or ()), detail=c.get("detail", ""))
        for c in report.checks
    ]


def report_facts(report: Report) -> findings_module.ReportFacts:
    checks = report_checks(report)  # the mapped ones, each with the items it mapped to at receipt
    return findings_module.ReportFacts(
        id=report.pk,
        kind=report.kind,
        run_id=report.run_id,
        run_url=report.run_url,
        source=report.source,
        reported_at=report.reported_at,
        checks=checks,
        mapped={index: check.items for index, check in enumerate(checks)},
    )


def parsed_checks(report: Report) -> list[Check]:
    """Every check of the report, read again from the file as received (it parsed when it arrived)."""
    return parse(report.kind, gzip.decompress(bytes(report.raw))).checks


def all_checks(report: Report) -> list[dict]:
    """Every check of the report with the items each maps to now."""
    checks = parsed_checks(report)
    mapped = map_checks(checks, kind=report.kind, rules=mapping_rules(project=report.project), known=item_codes())
    return [{**check.as_json(), "items": list(mapped.get(index, ()))} for index, check in enumerate(checks)]


def project_findings(*, project: Project) -> list[findings_module.ReportFinding]:
    """One finding per item and kind, from the reports kept (MLAUDIT_REPORTS_KEEP per kind)."""
    reports = Report.objects.filter(project=project).defer("raw").order_by("-reported_at", "-pk")
    kept = reports[: settings.MLAUDIT_REPORTS_KEEP * 4]  # four kinds
    return findings_module.findings([report_facts(r) for r in kept], now=timezone.now())


def evidence_findings(project: Project) -> list[EvidenceFinding]:
    """The reports' findings in the shape every evidence source shares."""
    return [
        EvidenceFinding(
            item=f.item,
            source=f.source,
            result=f.result,
            suggested_status=f.suggested_status,
            reason=f.reason,
            observed_at=f.observed_at,
            links=f.links,
            facts={**f.facts, "checks": f.checks},
            origin={"report": f.report},
        )
        for f in project_findings(project=project)
    ]
