"""Exports of hostile text: CSV cells no spreadsheet evaluates, Markdown no renderer turns into HTML or links."""

from __future__ import annotations

import csv
import io
import re

import pytest
from markdown_it import MarkdownIt

from audits.api.exports import csv_text, md_link, md_text
from audits.models import Project
from audits.services import answers_bulk_upsert

pytestmark = pytest.mark.django_db

BREAKOUT_LINK = "https://e.com/a)[x](javascript:alert(1))"
RAW_HTML_NAME = '<img src=x onerror="alert(1)"><script>alert(2)</script> **bold** [x](javascript:alert(3))'


def export(client, audit, export_format: str) -> str:
    response = client.get(f"/api/v1/audits/{audit.pk}/export/?format={export_format}")
    assert response.status_code == 200
    return response.content.decode()


def render(markdown: str) -> str:
    # CommonMark with raw HTML allowed and GitHub's tables: what a wiki or pull request would show.
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


@pytest.mark.parametrize(
    "notes", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1", '=HYPERLINK("x")']
)
def test_csv_cells_that_a_spreadsheet_would_run_as_a_formula_are_prefixed_with_a_quote(
    client_as, draft_audit, manager, notes
):
    answers_bulk_upsert(
        actor=manager, audit=draft_audit, entries=[{"item": "data-1", "status": "manual", "notes": notes}]
    )
    rows = list(csv.DictReader(io.StringIO(export(client_as("viewer"), draft_audit, "csv"))))
    row = next(r for r in rows if r["item"] == "data-1")
    assert row["notes"] == "'" + notes


def test_csv_keeps_ordinary_text_and_the_score_numbers_as_they_are(client_as, draft_audit, manager):
    answers_bulk_upsert(
        actor=manager, audit=draft_audit, entries=[{"item": "data-1", "status": "manual", "notes": "a = b, -ish"}]
    )
    rows = list(csv.DictReader(io.StringIO(export(client_as("viewer"), draft_audit, "csv"))))
    row = next(r for r in rows if r["item"] == "data-1")
    assert (row["notes"], row["points"], row["section_max"]) == ("a = b, -ish", "0.5", "7")


def test_csv_text_only_touches_formula_triggers():
    assert [csv_text(v) for v in ["=1", "plain", "", None, "3-1"]] == ["'=1", "plain", "", "", "3-1"]


def test_a_project_name_with_raw_html_and_markdown_stays_text_in_the_markdown_report(client_as, draft_audit):
    Project.objects.filter(pk=draft_audit.project_id).update(name=RAW_HTML_NAME)
    html = render(export(client_as("viewer"), draft_audit, "md"))
    assert "<img" not in html and "<script" not in html and "<strong>bold" not in html
    assert 'href="javascript' not in html
    assert "&lt;img src=x" in html


def test_an_evidence_link_cannot_break_out_of_its_markdown_link(client_as, draft_audit, manager):
    answers_bulk_upsert(
        actor=manager,
        audit=draft_audit,
        entries=[
            {
                "item": "data-1",
                "status": "manual",
                "notes": "see [here](javascript:alert(4)) <b>now</b> | next",
                "evidence": [BREAKOUT_LINK, "https://ci.example.com/run?a=1&b=(2)"],
            }
        ],
    )
    markdown = export(client_as("viewer"), draft_audit, "md")
    html = render(markdown)
    hrefs = re.findall(r'<a href="([^"]*)"', html)
    assert hrefs == [
        "https://e.com/a%29%5Bx%5D%28javascript:alert%281%29%29",
        "https://ci.example.com/run?a=1&amp;b=%282%29",
    ]
    assert "<b>" not in html
    # The notes' pipe did not split the row: the data-1 row still has its four cells.
    row = next(line for line in markdown.splitlines() if line.startswith("| `data-1`"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 5


def test_md_link_writes_only_http_links_as_links():
    assert md_link("1", "javascript:alert(1)") == "javascript:alert\\(1\\)"
    assert md_link("1", "https://a.example.com/x y") == "[1](<https://a.example.com/x%20y>)"
    assert md_text("a\n# b | c") == "a \\# b \\| c"
