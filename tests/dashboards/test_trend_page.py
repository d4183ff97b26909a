import pytest
from django.urls import reverse

from audits.formatting import plain
from audits.selectors import audit_score
from tests.dashboards.conftest import AUTOMATED, MANUAL, days_ago, submit_audit, texts_marked

pytestmark = pytest.mark.django_db


def trend_url(project) -> str:
    return reverse("dashboards:project-trend", args=[project.slug])


@pytest.fixture
def history(project, manager, codes, known_statuses):
    """Three submitted audits, oldest first: final 0, 1.5, 3."""
    first = submit_audit(project=project, actor=manager, statuses={codes[0]: MANUAL}, when=days_ago(200))
    second = submit_audit(project=project, actor=manager, statuses=known_statuses, when=days_ago(100))
    third = submit_audit(
        project=project, actor=manager, statuses={code: AUTOMATED for code in codes[::2]}, when=days_ago(3)
    )
    return [first, second, third]


def figure(response) -> dict:
    return response.context["chart"].payload["figure"]


def test_trend_table_lists_each_submitted_audit_with_the_scoring_functions_final(client, manager, project, history):
    client.force_login(manager)

    html = client.get(trend_url(project)).content.decode()

    expected = [audit_score(audit=audit).final for audit in history]
    assert [plain(value) for value in expected] == ["0", "1.5", "3"]
    assert texts_marked(html, "final") == ["0", "1.5", "3"]


def test_trend_chart_plots_finals_in_date_order_with_links_to_each_audit(client, manager, project, history):
    client.force_login(manager)

    fig = figure(client.get(trend_url(project)))

    final_trace = fig["data"][-1]
    assert final_trace["y"] == [0.0, 1.5, 3.0]
    assert final_trace["mode"] == "lines+markers"
    assert [row[0] for row in final_trace["customdata"]] == [
        reverse("dashboards:audit-result", args=[audit.pk]) for audit in history
    ]
    assert all(row[1] == manager.username for row in final_trace["customdata"])


def test_trend_chart_draws_one_line_per_section_and_shades_every_band(client, manager, project, history, rubric):
    client.force_login(manager)

    fig = figure(client.get(trend_url(project)))

    section_traces = fig["data"][:-1]
    assert len(section_traces) == rubric.sections.count() == 4
    second = audit_score(audit=history[1])
    assert [trace["y"][1] for trace in section_traces] == [float(s.score) for s in second.sections]
    assert len(fig["layout"]["shapes"]) == rubric.bands.count() == 6
    assert fig["layout"]["yaxis"]["range"][1] >= 7


def test_trend_hover_names_date_final_sections_and_auditor(client, manager, project, history):
    client.force_login(manager)

    hover = figure(client.get(trend_url(project)))["data"][-1]["hovertemplate"]

    assert "%{x|%b %-d, %Y}" in hover and "%{y}" in hover and "%{customdata[1]}" in hover
    assert "Tests for features and data: %{customdata[2]}" in hover
    assert "Monitoring tests for ML: %{customdata[5]}" in hover


def test_trend_of_a_project_without_submitted_audits_says_so(client, manager, project):
    client.force_login(manager)

    response = client.get(trend_url(project))

    assert response.status_code == 200
    assert response.context["chart"] is None
    assert "no submitted audit yet" in response.content.decode()


def test_outsider_gets_404_for_a_trend(client, outsider, project):
    client.force_login(outsider)

    assert client.get(trend_url(project)).status_code == 404


def test_trend_shows_the_bands_and_sections_of_the_latest_audits_rubric(client, manager, project, history):
    from rubric.loader import BUILTIN_RUBRIC, load_rubric_file

    example, _outcome = load_rubric_file(BUILTIN_RUBRIC.parent / "examples" / "production-readiness-review.yaml")
    latest = submit_audit(project=project, actor=manager, statuses={}, when=days_ago(1), rubric=example)
    client.force_login(manager)

    response = client.get(trend_url(project))

    assert response.context["trend"].points[-1].audit_id == latest.pk
    assert response.context["section_titles"] == ["Operations", "Safety"]
    fig = figure(response)
    assert len(fig["layout"]["shapes"]) == example.bands.count() == 3
    assert len(fig["data"]) == 2 + 1  # one line per section of the example rubric, then the final score


def test_trend_writes_scores_with_the_languages_decimal_separator(client, manager, project, history):
    client.force_login(manager)

    html = client.get(trend_url(project), HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert texts_marked(html, "final") == ["0", "1,5", "3"]
