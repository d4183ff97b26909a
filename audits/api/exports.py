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
from django.utils.translation import ngettext

from audits.exemptions.rules import audit_score_day, counted_statuses, exemption_state
from audits.formatting import plain
from audits.models import EXEMPTION_STATE_LABELS, Audit
from audits.planning.selectors import audit_next_steps
from audits.planning.serializers import next_steps_payload
from audits.selectors import audit_answers, audit_score
from rubric.models import status_label
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
    day = audit_score_day(audit)
    counted = counted_statuses(answers.values(), day)
    result = audit_score(audit=audit, status_map=counted)
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
                    "exemption_state": exemption_state(answer.status, answer.exemption_state, answer.expires_on, day)
                    if answer
                    else "",
                    "expires_on": answer.expires_on if answer else None,
                    "points": rubric.points_for(counted[item.code]) if answer else Decimal(0),
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
        "final_strict": result.final_strict,
        "exempted": list(result.exempted),
        "band": result.band,
        "weakest": list(result.weakest),
        "sections": sections,
        "next_steps": next_steps_payload(audit_next_steps(audit=audit, statuses=counted)),
    }


# A spreadsheet runs a cell starting with one of these as a formula (`=cmd|' /C calc'!A0`).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> str:
    """A text cell made inert, as OWASP advises for CSV injection: a cell starting with a formula trigger
    gets a leading single quote, which spreadsheets show as text and do not evaluate. Only text cells go
    through here; the score columns are numbers this module formats itself."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


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
                    csv_text(data["project"]["slug"]),
                    data["audit"]["id"],
                    csv_text(data["audit"]["status"]),
                    plain(data["final"]),
                    csv_text(band),
                    csv_text(section["key"]),
                    plain(section["score"]),
                    plain(section["max"]),
                    csv_text(item["code"]),
                    csv_text(item["title"]),
                    csv_text(item["status"]),
                    plain(item["points"]),
                    csv_text(item["notes"]),
                    csv_text(" ".join(item["evidence"])),
                    csv_text(item["answered_by"]),
                    csv_text(item["answered_at"]),
                ]
            )
    return buffer.getvalue()


# Markdown is read as HTML by most renderers: everything people or rubric files wrote is escaped, so a
# project named `<img src=x onerror=...>` or notes full of `[x](javascript:...)` stay plain text.
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
# Only characters with a meaning inside a line: user text never starts a line (list markers do not matter).
_MARKDOWN_SPECIALS = set("\\`*_{}[]()#!|~")


def md_text(value: Any) -> str:
    """Text for one line of Markdown: line breaks collapsed, HTML characters as entities, Markdown
    punctuation backslash-escaped (so it cannot open a link, emphasis, code or a table cell)."""
    text = " ".join(str(value or "").split())
    return "".join(_HTML_ENTITIES.get(char) or (f"\\{char}" if char in _MARKDOWN_SPECIALS else char) for char in text)


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode())


def md_link(label: str, url: str) -> str:
    """An evidence link that cannot break out of its syntax: the destination in angle brackets, with the
    characters that could end it or a table cell (`<>()[]|\\`, quotes, spaces, controls) percent-encoded.
    Only http(s) links become links; anything else is shown as text."""
    if not url.lower().startswith(("http://", "https://")):
        return md_text(url)
    destination = "".join(
        _percent(char) if char in "<>()[]|\\`\"'" or char.isspace() or not char.isprintable() else char for char in url
    )
    return f"[{md_text(label)}](<{destination}>)"


def _cell(text: Any) -> str:
    """Table cells cannot hold pipes or line breaks; md_text escapes both."""
    return md_text(text)


def _status_label(status: str | None) -> str:
    return status_label(status, short=True, missing=_("Not answered"))


def _item_status(item: dict[str, Any]) -> str:
    """The status, and for an exemption its state and expiry: "N/A (approved, until 2026-09-01)"."""
    label = _status_label(item["status"])
    if not item.get("exemption_state"):
        return label
    state = EXEMPTION_STATE_LABELS.get(item["exemption_state"], item["exemption_state"])
    if item.get("expires_on"):
        return _("%(status)s (%(state)s, until %(date)s)") % {
            "status": label,
            "state": state,
            "date": str(item["expires_on"])[:10],
        }
    return f"{label} ({state})"


def render_markdown(data: dict[str, Any]) -> str:
    project, audit = data["project"], data["audit"]
    lines = [f"# {_('ML Test Score audit')}: {md_text(project['name'])}", ""]
    final = plain(data["final"])
    if data["band"]:
        band = data["band"]
        lines.append(f"**{_('Final score')}: {final}** — {md_text(band['label'])}. {md_text(band['meaning'])}")
    else:
        lines.append(f"**{_('Final score')}: {final}**")
    if data["exempted"]:
        lines += [
            "",
            _("This score counts %(n)s approved exemptions (%(items)s); without them the final score is %(strict)s.")
            % {
                "n": len(data["exempted"]),
                "items": ", ".join(f"`{code.replace('`', '')}`" for code in data["exempted"]),
                "strict": plain(data["final_strict"]),
            },
        ]
    lines.append("")
    if audit["status"] == "submitted":
        when = _("Submitted by %(user)s on %(date)s.") % {
            "user": md_text(audit["submitted_by"] or "?"),
            "date": (audit["submitted_at"] or "")[:10],
        }
    else:
        when = _("Draft: the answers and scores may still change.")
    lines += [
        f"{_('Team')}: {md_text(project['team']['name'])} · {_('Audit')} #{audit['id']} · "
        f"{_('Rubric')}: {md_text(data['rubric']['slug'])} {md_text(data['rubric']['version'])}. {when}",
        "",
        f"| {_('Section')} | {_('Score')} | {_('Answered')} |",
        "|---|---:|---:|",
    ]
    for section in data["sections"]:
        marker = f" ⚠ {_('weakest')}" if section["key"] in data["weakest"] else ""
        lines.append(
            f"| {_cell(section['title'])}{marker} | {plain(section['score'])} / {plain(section['max'])} "
            f"| {section['answered']} / {section['total']} |"
        )
    lines += ["", _("The final score is the lowest section score."), ""]
    lines += _next_steps_markdown(data)
    for section in data["sections"]:
        lines += [
            f"## {md_text(section['title'])} ({plain(section['score'])} / {plain(section['max'])})",
            "",
            f"| {_('Test')} | {_('Status')} | {_('Notes')} | {_('Evidence')} |",
            "|---|---|---|---|",
        ]
        for item in section["items"]:
            evidence = " ".join(md_link(str(n), link) for n, link in enumerate(item["evidence"], start=1))
            lines.append(
                f"| `{item['code'].replace('`', '')}` {_cell(item['title'])} | {_item_status(item)} "
                f"| {_cell(item['notes'])} | {evidence} |"
            )
        lines.append("")
    return "\n".join(lines)


def _next_steps_markdown(data: dict[str, Any]) -> list[str]:
    """The path to the next band (audits.planning): which answers to raise, and who owns each."""
    plan = data.get("next_steps")
    if not plan or not plan["changes"]:
        return []
    titles = {item["code"]: item["title"] for section in data["sections"] for item in section["items"]}
    goal = md_text(plan["target_band"]) if plan["target_band"] else plain(plan["target"])
    lines = [
        f"## {_('Next steps')}",
        "",
        ngettext(
            "%(n)s change reaches %(goal)s (final score %(after)s):",
            "%(n)s changes reach %(goal)s (final score %(after)s):",
            len(plan["changes"]),
        )
        % {"n": len(plan["changes"]), "goal": f"*{goal}*", "after": plan["final_after"]},
        "",
        f"| {_('Test')} | {_('Now')} | {_('Then')} | {_('Gain')} | {_('Owner')} |",
        "|---|---|---|---:|---|",
    ]
    for change in plan["changes"]:
        lines.append(
            f"| `{change['item'].replace('`', '')}` {_cell(titles.get(change['item'], ''))} "
            f"| {_status_label(change['from'])} | {_status_label(change['to'])} | +{change['gain']} "
            f"| {_cell(change['owner'] or '—')} |"
        )
    lines.append("")
    return lines
