from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from audits.formatting import plain
from audits.selectors import audit_score
from tests.dashboards.conftest import submit_audit, texts_marked

pytestmark = pytest.mark.django_db


def result_url(audit) -> str:
    return reverse("dashboards:audit-result", args=[audit.pk])


def test_audit_result_shows_the_scoring_functions_final_score_and_sections(client, manager, project, known_statuses):
    audit = submit_audit(project=project, actor=manager, statuses=known_statuses)
    client.force_login(manager)

    html = client.get(result_url(audit)).content.decode()

    expected = audit_score(audit=audit)
    assert expected.final == Decimal("1.5")
    assert texts_marked(html, "final-score") == ["1.5"]
    assert texts_marked(html, "section-score") == [plain(s.score) for s in expected.sections] == ["7", "4", "1.5", "2"]
    assert texts_marked(html, "band") == ["First steps"]


def test_audit_result_marks_the_weakest_section(client, manager, project, known_statuses):
    audit = submit_audit(project=project, actor=manager, statuses=known_statuses)
    client.force_login(manager)

    response = client.get(result_url(audit))

    assert response.context["result"].score.weakest == ("infra",)
    html = response.content.decode()
    infra_row = html.split('data-section="infra"')[1].split("</tr>")[0]
    data_row = html.split('data-section="data"')[1].split("</tr>")[0]
    assert "weakest" in infra_row
    assert "weakest" not in data_row


def test_audit_result_chart_uses_a_fixed_axis_up_to_the_section_maximum(client, manager, project, known_statuses):
    audit = submit_audit(project=project, actor=manager, statuses=known_statuses)
    client.force_login(manager)

    chart = client.get(result_url(audit)).context["chart"]

    layout = chart.payload["figure"]["layout"]
    assert layout["xaxis"]["range"] == [0, 7.0]


def test_audit_result_lists_every_item_with_status_notes_and_who_answered(
    client, manager, project, codes, known_statuses
):
    audit = submit_audit(project=project, actor=manager, statuses=known_statuses)
    client.force_login(manager)

    html = client.get(result_url(audit)).content.decode()

    for code in codes:
        assert f'data-item="{code}"' in html
    data_row = html.split(f'data-item="{codes[0]}"')[1].split("</tr>")[0]
    assert "Automated" in data_row and f"note on {codes[0]}" in data_row and manager.username in data_row
    unanswered_row = html.split(f'data-item="{codes[-1]}"')[1].split("</tr>")[0]
    assert "Not done" in unanswered_row and "Not answered" in unanswered_row


def test_audit_result_shows_the_band_meaning_in_the_users_language(client, manager, project, known_statuses):
    audit = submit_audit(project=project, actor=manager, statuses=known_statuses)
    client.force_login(manager)

    with translation.override("es"):
        html = client.get(result_url(audit), HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert texts_marked(html, "band") == ["Primeros pasos"]


def test_outsider_gets_404_for_an_audit_result(client, outsider, manager, project, known_statuses):
    audit = submit_audit(project=project, actor=manager, statuses=known_statuses)
    client.force_login(outsider)

    assert client.get(result_url(audit)).status_code == 404


def test_viewer_can_read_an_audit_result(client, viewer, manager, project, known_statuses):
    audit = submit_audit(project=project, actor=manager, statuses=known_statuses)
    client.force_login(viewer)

    assert client.get(result_url(audit)).status_code == 200


def test_anonymous_visitor_is_sent_to_sign_in(client, manager, project, known_statuses):
    audit = submit_audit(project=project, actor=manager, statuses=known_statuses)

    response = client.get(result_url(audit))

    assert response.status_code == 302
    assert reverse("account:login") in response["Location"]
