"""The CI reports pages: findings, mapping rules with a preview, push tokens shown once, the coverage table."""

from __future__ import annotations

import re

from django.test import Client

from audits.api.tokens import ApiToken
from evidence.sources import SOURCE_LABELS
from integrations.reports.coverage import coverage
from integrations.reports.models import ReportMapping
from tests.reports.test_push_api import push

PAGE = "/integrations/reports/projects/search-ranking/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_findings_and_the_checks_that_map_nowhere(client_as, viewer, project, junit_report):
    push(client_as("editor"), junit_report(), run_id="9", run_url="https://ci.example.com/9")
    page = signed_in(viewer).get(PAGE).content.decode()
    assert 'data-item="data-1"' in page and "https://ci.example.com/9" in page
    assert "test_tokenizer_handles_empty_text" in page  # listed as mapping nowhere
    assert "Create push token" not in page  # viewers do not manage


def test_a_rule_preview_shows_what_it_would_map_before_anything_is_saved(client_as, manager, project, junit_report):
    push(client_as("editor"), junit_report(), run_id="9")
    page = signed_in(manager).get(PAGE, {"preview": "1", "pattern": "*tokenizer*", "item": "data-7"}).content.decode()
    row = re.search(r"<tr><td>test_ml.test_tokenizer_handles_empty_text</td>.*?</tr>", page, re.S)
    assert row and "data-7" in row.group(0)
    assert not ReportMapping.objects.exists()
    response = signed_in(manager).post(f"{PAGE}mappings/", {"pattern": "*tokenizer*", "item": "data-7", "kind": ""})
    assert response.status_code == 302 and ReportMapping.objects.get().item_code == "data-7"


def test_a_manager_creates_a_push_token_and_sees_its_key_once(manager, project):
    client = signed_in(manager)
    client.post(f"{PAGE}push-tokens/", {"name": "GitHub Actions"})
    first = client.get(PAGE).content.decode()
    key = re.search(r'id="push-key" class="snippet" type="text" readonly value="(mla_[^"]+)"', first)
    assert key, "the key is shown after creating the token"
    assert ApiToken.objects.get(name="GitHub Actions").push_project == project
    assert key.group(1) not in client.get(PAGE).content.decode()


def test_an_editor_cannot_create_a_push_token(editor, project):
    assert signed_in(editor).post(f"{PAGE}push-tokens/", {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_at_least_24_of_the_28_items_have_an_automatic_source(rubric):
    codes = set(rubric.items.values_list("code", flat=True))
    assert len(codes) == 28
    assert len(codes & set(coverage())) >= 24


def test_the_coverage_page_lists_every_item_with_its_sources(viewer, rubric):
    page = signed_in(viewer).get("/integrations/reports/coverage/").content.decode()
    assert page.count('<tr data-item="') == 28
    assert "Great Expectations" in page and "Prometheus rules" in page


def test_the_readme_coverage_table_matches_the_sources_mlaudit_reads():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text[text.index("### Which source backs which item") :]
    rows = dict(re.findall(r"^\| `([a-z]+-\d)` \| ([^|]*) \|", section, re.M))
    expected = {
        code: ", ".join(label for source, label in SOURCE_LABELS.items() if source in sources)
        for code, sources in coverage().items()
    }
    assert {code: value.strip() for code, value in rows.items() if value.strip()} == expected
