"""Audit exports as JSON, CSV and Markdown: every item with its points and the scores; unknown formats refused."""

from __future__ import annotations

import csv
import io

import pytest

from audits.services import answers_bulk_upsert
from tests.api.conftest import KNOWN_BAND, KNOWN_FINAL, KNOWN_SECTIONS, KNOWN_STATUSES

pytestmark = pytest.mark.django_db


def test_json_export_has_every_item_with_points_and_scores(client_as, submitted_audit):
    response = client_as("viewer").get(f"/api/v1/audits/{submitted_audit.pk}/export/?format=json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["final"] == KNOWN_FINAL and body["band"]["label"] == KNOWN_BAND
    assert {s["key"]: s["score"] for s in body["sections"]} == KNOWN_SECTIONS
    items = [item for section in body["sections"] for item in section["items"]]
    assert len(items) == 28
    assert {i["code"]: i["status"] for i in items} == KNOWN_STATUSES
    assert {i["code"]: i["points"] for i in items}["data-4"] == 0.5


def test_csv_export_has_one_row_per_item(client_as, submitted_audit):
    response = client_as("viewer").get(f"/api/v1/audits/{submitted_audit.pk}/export/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 28
    row = next(r for r in rows if r["item"] == "model-3")
    assert (row["status"], row["points"], row["section_score"], row["final_score"]) == ("manual", "0.5", "2.5", "2.5")
    assert row["evidence"] == "https://ci.example.com/model-3"


def test_markdown_export_is_a_report_with_scores_and_tables(client_as, submitted_audit):
    response = client_as("viewer").get(f"/api/v1/audits/{submitted_audit.pk}/export/?format=md")
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith("# ML Test Score audit: Search ranking")
    assert "**Final score: 2.5** — Reasonably tested." in text
    assert "| Tests for model development ⚠ weakest | 2.5 / 7 | 7 / 7 |" in text
    assert "| `data-1` Feature expectations are captured in a schema | Automated | notes for data-1 " in text
    assert "[1](<https://ci.example.com/data-1>)" in text
    assert text.count("\n## ") == 5  # the four sections and the next steps
    assert "\n## Next steps\n" in text


def test_markdown_table_cells_escape_pipes_and_line_breaks(client_as, draft_audit, manager):
    answers_bulk_upsert(
        actor=manager, audit=draft_audit, entries=[{"item": "data-1", "status": "manual", "notes": "a | b\nc"}]
    )
    text = client_as("viewer").get(f"/api/v1/audits/{draft_audit.pk}/export/?format=md").content.decode()
    assert "a \\| b c" in text


def test_unknown_export_format_is_400(client_as, submitted_audit):
    response = client_as("viewer").get(f"/api/v1/audits/{submitted_audit.pk}/export/?format=pdf")
    assert response.status_code == 400
    assert "format" in response.json()["error"]["fields"]
