"""Every endpoint, read back with the exact numbers the scoring function gives for known answers."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import Audit, AuditStatus, Project
from audits.services import answers_bulk_upsert, audit_start, audit_submit
from tests.api.conftest import KNOWN_BAND, KNOWN_FINAL, KNOWN_SECTIONS, KNOWN_STATUSES, known_answers

pytestmark = pytest.mark.django_db


def test_rubric_list_shows_the_builtin_version_with_points_and_bands(client_as, rubric):
    body = client_as("viewer").get("/api/v1/rubrics/").json()
    (row,) = [r for r in body["results"] if r["slug"] == "ml-test-score"]
    assert row["version"] == "2017"
    assert row["points"] == {"not_done": 0.0, "manual": 0.5, "automated": 1.0}
    assert [b["label"] for b in row["bands"]][:2] == ["Research project", "Serious gaps"]


def test_rubric_detail_lists_four_sections_of_seven_items_with_guidance(client_as, rubric):
    body = client_as("viewer").get("/api/v1/rubrics/ml-test-score/").json()
    assert body["versions"] == ["2017"]
    assert [s["key"] for s in body["sections"]] == ["data", "model", "infra", "monitoring"]
    assert [len(s["items"]) for s in body["sections"]] == [7, 7, 7, 7]
    first = body["sections"][0]["items"][0]
    assert first["code"] == "data-1" and first["title"] and first["guidance"]


def test_rubric_detail_speaks_the_requested_language(client_as, rubric):
    body = client_as("viewer").get("/api/v1/rubrics/ml-test-score/", HTTP_ACCEPT_LANGUAGE="es").json()
    assert body["title"] == "El ML Test Score"


def test_unknown_rubric_version_is_404(client_as, rubric):
    response = client_as("viewer").get("/api/v1/rubrics/ml-test-score/?version=1999")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_manager_creates_project_in_own_team(client_as, team, manager):
    response = client_as("manager").post(
        "/api/v1/projects/", {"name": "Fraud model", "team": "ranking", "description": "Scores payments."}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "fraud-model"
    assert body["team"] == {"slug": "ranking", "name": "Ranking"}
    assert body["latest"] is None
    assert Project.objects.get(slug="fraud-model").description == "Scores payments."


def test_project_detail_shows_latest_submitted_score(client_as, submitted_audit):
    body = client_as("viewer").get("/api/v1/projects/search-ranking/").json()
    assert body["latest"]["audit"] == submitted_audit.pk
    assert body["latest"]["final"] == KNOWN_FINAL
    assert body["latest"]["band"] == KNOWN_BAND


def test_manager_patches_project_fields(client_as, project):
    response = client_as("manager").patch(
        "/api/v1/projects/search-ranking/", {"badge_public": True, "audit_cadence_days": 30}
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.badge_public is True and project.audit_cadence_days == 30


def test_patching_a_blank_name_is_refused_by_the_service(client_as, project):
    response = client_as("manager").patch("/api/v1/projects/search-ranking/", {"name": "  "})
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_manager_deletes_project(client_as, submitted_audit):
    assert client_as("manager").delete("/api/v1/projects/search-ranking/").status_code == 204
    assert not Project.objects.filter(slug="search-ranking").exists()


def test_starting_an_audit_returns_its_id_and_an_empty_score(client_as, project, rubric):
    response = client_as("manager").post(
        "/api/v1/projects/search-ranking/audits/", {"rubric": "ml-test-score", "copy_from_latest": False}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    audit = Audit.objects.get(pk=body["id"])
    assert audit.project == project and audit.status == AuditStatus.DRAFT
    assert body["answers"] == []
    assert body["score"]["final"] == 0.0 and body["score"]["answered"] == 0 and body["score"]["total"] == 28


def test_an_audit_copied_from_the_latest_carries_its_answers_over(client_as, submitted_audit):
    response = client_as("manager").post("/api/v1/projects/search-ranking/audits/", {"copy_from_latest": True})
    assert response.status_code == 201
    body = response.json()
    assert body["copied_from"] == submitted_audit.pk
    assert len(body["answers"]) == 28 and all(a["carried_over"] for a in body["answers"])
    assert body["score"]["final"] == KNOWN_FINAL


def test_copy_from_latest_without_a_submitted_audit_is_400(client_as, project, rubric):
    response = client_as("manager").post("/api/v1/projects/search-ranking/audits/", {"copy_from_latest": True})
    assert response.status_code == 400
    assert "copy_from_latest" in response.json()["error"]["fields"]


def test_unknown_rubric_slug_is_400(client_as, project, rubric):
    response = client_as("manager").post("/api/v1/projects/search-ranking/audits/", {"rubric": "no-such-rubric"})
    assert response.status_code == 400
    assert "rubric" in response.json()["error"]["fields"]


def test_audit_list_of_a_project_is_newest_first(client_as, submitted_audit, manager, project):
    newer = audit_start(actor=manager, project=project)
    body = client_as("viewer").get("/api/v1/projects/search-ranking/audits/").json()
    assert [a["id"] for a in body["results"]] == [newer.pk, submitted_audit.pk]
    assert body["results"][1]["final"] == KNOWN_FINAL and body["results"][1]["band"] == KNOWN_BAND
    only_drafts = client_as("viewer").get("/api/v1/projects/search-ranking/audits/?status=draft").json()
    assert [a["id"] for a in only_drafts["results"]] == [newer.pk]


def test_audit_detail_has_all_answers_and_the_score(client_as, answered_audit):
    body = client_as("viewer").get(f"/api/v1/audits/{answered_audit.pk}/").json()
    assert {a["item"]: a["status"] for a in body["answers"]} == KNOWN_STATUSES
    assert body["answers"][0]["evidence"] == ["https://ci.example.com/data-1"]
    assert body["score"]["final"] == KNOWN_FINAL


def test_score_endpoint_matches_the_scoring_function(client_as, answered_audit):
    body = client_as("viewer").get(f"/api/v1/audits/{answered_audit.pk}/score/").json()
    assert body["final"] == KNOWN_FINAL
    assert body["band"]["label"] == KNOWN_BAND and body["band"]["meaning"]
    assert {s["key"]: s["score"] for s in body["sections"]} == KNOWN_SECTIONS
    assert {s["max"] for s in body["sections"]} == {7.0}
    assert body["weakest"] == ["model"]
    assert body["rubric"] == {"slug": "ml-test-score", "version": "2017"}
    assert (body["answered"], body["total"]) == (28, 28)


def test_bulk_answers_update_the_score(client_as, answered_audit):
    response = client_as("editor").patch(
        f"/api/v1/audits/{answered_audit.pk}/answers/",
        [{"item": f"model-{n}", "status": "automated"} for n in (4, 5)],
    )
    assert response.status_code == 200, response.content
    score = response.json()["score"]
    assert {s["key"]: s["score"] for s in score["sections"]}["model"] == 4.5
    assert score["final"] == 3.0 and score["weakest"] == ["monitoring"]


def test_submit_freezes_the_scores(client_as, answered_audit):
    response = client_as("manager").post(f"/api/v1/audits/{answered_audit.pk}/submit/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "submitted" and body["final"] == KNOWN_FINAL and body["band"] == KNOWN_BAND
    answered_audit.refresh_from_db()
    assert answered_audit.section_scores == KNOWN_SECTIONS


def test_manager_deletes_a_draft_audit_but_not_a_submitted_one(client_as, draft_audit, submitted_audit):
    other = audit_start(actor=submitted_audit.created_by, project=submitted_audit.project)
    assert client_as("manager").delete(f"/api/v1/audits/{other.pk}/").status_code == 204
    response = client_as("manager").delete(f"/api/v1/audits/{submitted_audit.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "audit_locked"


def test_trend_lists_submitted_audits_oldest_first(client_as, submitted_audit, manager, project):
    later = audit_start(actor=manager, project=project, copy_from_latest=True)
    answers_bulk_upsert(
        actor=manager, audit=later, entries=[{"item": f"model-{n}", "status": "automated"} for n in (4, 5)]
    )
    audit_submit(actor=manager, audit=later)
    audit_start(actor=manager, project=project)  # a draft is not part of the trend
    body = client_as("viewer").get("/api/v1/projects/search-ranking/trend/").json()
    assert [p["audit"] for p in body] == [submitted_audit.pk, later.pk]
    assert [p["final"] for p in body] == [2.5, 3.0]
    assert body[0]["sections"] == KNOWN_SECTIONS
    assert body[1]["sections"] == {**KNOWN_SECTIONS, "model": 4.5}
    assert body[1]["submitted_by"] == "mara"


def test_portfolio_row_has_latest_score_change_band_and_overdue(client_as, submitted_audit, manager, project):
    later = audit_start(actor=manager, project=project, copy_from_latest=True)
    answers_bulk_upsert(
        actor=manager, audit=later, entries=[{"item": f"model-{n}", "status": "automated"} for n in (4, 5)]
    )
    audit_submit(actor=manager, audit=later)
    Project.objects.create(team=project.team, name="Ads ranking", slug="ads-ranking")
    Project.objects.filter(slug="ads-ranking").update(created_at=timezone.now() - timedelta(days=400))
    body = client_as("viewer").get("/api/v1/portfolio/").json()
    rows = {row["project"]["slug"]: row for row in body["results"]}
    assert rows["search-ranking"]["project"] == {
        "slug": "search-ranking",
        "name": project.name,
        "team": {"slug": project.team.slug, "name": project.team.name},
    }
    assert rows["search-ranking"]["final"] == 3.0
    assert rows["search-ranking"]["previous_final"] == KNOWN_FINAL
    assert rows["search-ranking"]["change"] == 0.5
    assert rows["search-ranking"]["band"]["label"] == KNOWN_BAND
    assert rows["search-ranking"]["latest_audit"] == later.pk
    assert rows["search-ranking"]["overdue"] is False
    assert rows["ads-ranking"]["final"] is None and rows["ads-ranking"]["overdue"] is True


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


def test_known_answers_cover_all_28_items():
    assert len(known_answers()) == 28


def test_signed_in_users_get_the_browsable_api(client, project, viewer):
    client.force_login(viewer)
    response = client.get("/api/v1/projects/search-ranking/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Search ranking" in response.content.decode()
