"""The whole audit as JSON, CSV or a Markdown report for a pull request or wiki page.

`audit_export_data` gathers everything once (through the selectors); the renderers below turn its
serialized form into CSV and Markdown, so the three formats cannot disagree.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from audits.models import Audit
from audits.selectors import audit_answers, audit_score
from rubric.models import AnswerStatus
from rubric.selectors import rubric_with_structure

CSV_COLUMNS = [
    "project",
    "audit",
    "audit_status",
    "final_score",
    "band",
    "section",
    "section_score",
    "section_max",
    "item",
    "title",
    "status",
    "points",
    "notes",
    "evidence",
    "answered_by",
    "answered_at",
]


def audit_export_data(*, audit: Audit) -> dict[str, Any]:
    answers = {answer.item.code: answer for answer in audit_answers(audit=audit)}
    result = audit_score(audit=audit, status_map={code: answer.status for code, answer in answers.items()})
    rubric = rubric_with_structure(audit.rubric_id)
    items = list(rubric.items.all())
    sections = []
    for section, score in zip(rubric.sections.all(), result.sections, strict=True):
        section_items = []
        for item in (item for item in items if item.section_id == section.pk):
            answer = answers.get(item.code)
            section_items.append(
                {
                    "code": item.code,
                    "title": item.localized("title"),
                    "status": answer.status if answer else None,
                    "points": rubric.points_for(answer.status) if answer else Decimal(0),
                    "notes": answer.notes if answer else "",
                    "evidence": answer.evidence if answer else [],
                    "answered_by": answer.answered_by.get_username() if answer and answer.answered_by else None,
                    "answered_at": answer.answered_at if answer else None,
                }
            )
        sections.append(
            {
                "key": score.key,
                "title": section.localized("title"),
                "score": score.score,
                "max": score.max,
                "answered": score.answered,
                "total": score.total,
                "items": section_items,
            }
        )
    return {
        "project": audit.project,
        "audit": audit,
        "rubric": audit.rubric,
        "final": result.final,
        "band": result.band,
        "weakest": list(result.weakest),
        "sections": sections,
    }


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def render_csv(data: dict[str, Any]) -> str:
    """One row per rubric item; the audit's and section's scores repeat on each row so any row stands alone."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    band = data["band"]["label"] if data["band"] else ""
    for section in data["sections"]:
        for item in section["items"]:
            writer.writerow(
                [
                    data["project"]["slug"],
                    data["audit"]["id"],
                    data["audit"]["status"],
                    _number(data["final"]),
                    band,
                    section["key"],
                    _number(section["score"]),
                    _number(section["max"]),
                    item["code"],
                    item["title"],
                    item["status"] or "",
                    _number(item["points"]),
                    item["notes"],
                    " ".join(item["evidence"]),
                    item["answered_by"] or "",
                    item["answered_at"] or "",
                ]
            )
    return buffer.getvalue()


def _cell(text: str) -> str:
    """Table cells cannot hold pipes or line breaks."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _status_label(status: str | None) -> str:
    labels = {
        AnswerStatus.AUTOMATED.value: _("Automated"),
        AnswerStatus.MANUAL.value: _("Manual, documented"),
        AnswerStatus.NOT_DONE.value: _("Not done"),
    }
    return labels.get(status or "", _("Not answered"))


def render_markdown(data: dict[str, Any]) -> str:
    project, audit = data["project"], data["audit"]
    lines = [f"# {_('ML Test Score audit')}: {project['name']}", ""]
    final = _number(data["final"])
    if data["band"]:
        lines.append(f"**{_('Final score')}: {final}** — {data['band']['label']}. {data['band']['meaning']}")
    else:
        lines.append(f"**{_('Final score')}: {final}**")
    lines.append("")
    if audit["status"] == "submitted":
        when = _("Submitted by %(user)s on %(date)s.") % {
            "user": audit["submitted_by"] or "?",
            "date": (audit["submitted_at"] or "")[:10],
        }
    else:
        when = _("Draft: the answers and scores may still change.")
    lines += [
        f"{_('Team')}: {project['team']['name']} · {_('Audit')} #{audit['id']} · "
        f"{_('Rubric')}: {data['rubric']['slug']} {data['rubric']['version']}. {when}",
        "",
        f"| {_('Section')} | {_('Score')} | {_('Answered')} |",
        "|---|---:|---:|",
    ]
    for section in data["sections"]:
        marker = f" ⚠ {_('weakest')}" if section["key"] in data["weakest"] else ""
        lines.append(
            f"| {_cell(section['title'])}{marker} | {_number(section['score'])} / {_number(section['max'])} "
            f"| {section['answered']} / {section['total']} |"
        )
    lines += ["", _("The final score is the lowest section score."), ""]
    for section in data["sections"]:
        lines += [
            f"## {section['title']} ({_number(section['score'])} / {_number(section['max'])})",
            "",
            f"| {_('Test')} | {_('Status')} | {_('Notes')} | {_('Evidence')} |",
            "|---|---|---|---|",
        ]
        for item in section["items"]:
            evidence = " ".join(f"[{n}]({_cell(link)})" for n, link in enumerate(item["evidence"], start=1))
            lines.append(
                f"| `{item['code']}` {_cell(item['title'])} | {_status_label(item['status'])} "
                f"| {_cell(item['notes'])} | {evidence} |"
            )
        lines.append("")
    return "\n".join(lines)
