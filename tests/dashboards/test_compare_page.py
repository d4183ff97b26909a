import pytest
from django.urls import reverse

from audits.formatting import plain
from audits.selectors import audit_score
from tests.dashboards.conftest import AUTOMATED, MANUAL, NOT_DONE, days_ago, submit_audit, texts_marked

pytestmark = pytest.mark.django_db


def compare_url(project, before=None, after=None) -> str:
    url = reverse("dashboards:compare", args=[project.slug])
    return f"{url}?a={before.pk}&b={after.pk}" if before else url


@pytest.fixture
def pair(project, manager, codes):
    """Before: data-1 automated, data-2 manual, data-3 manual. After: data-1 manual, data-2 automated, data-3 manual,
    model-1 automated."""
    before = submit_audit(
        project=project,
        actor=manager,
        statuses={codes[0]: AUTOMATED, codes[1]: MANUAL, codes[2]: MANUAL},
        when=days_ago(90),
    )
    after = submit_audit(
        project=project,
        actor=manager,
        statuses={codes[0]: MANUAL, codes[1]: AUTOMATED, codes[2]: MANUAL, codes[7]: AUTOMATED},
        when=days_ago(1),
    )
    return before, after


def direction_of(html: str, code: str) -> str:
    return html.split(f'data-item="{code}" data-direction="')[1].split('"')[0]


def test_compare_marks_each_item_up_down_or_same(client, manager, project, pair, codes):
    client.force_login(manager)

    html = client.get(compare_url(project, *pair)).content.decode()

    assert direction_of(html, codes[0]) == "down"
    assert direction_of(html, codes[1]) == "up"
    assert direction_of(html, codes[2]) == "same"
    assert direction_of(html, codes[7]) == "up"
    assert direction_of(html, codes[27]) == "same"


def test_compare_section_deltas_equal_the_difference_of_the_scoring_functions_sections(client, manager, project, pair):
    before, after = pair
    client.force_login(manager)

    html = client.get(compare_url(project, before, after)).content.decode()

    before_score, after_score = audit_score(audit=before), audit_score(audit=after)
    expected = [
        after_s.score - before_s.score
        for before_s, after_s in zip(before_score.sections, after_score.sections, strict=True)
    ]
    assert [plain(value) for value in expected] == ["0", "1", "0", "0"]
    assert texts_marked(html, "section-delta") == ["0", "+1", "0", "0"]


def test_compare_defaults_to_the_latest_audit_against_the_one_before(client, manager, project, pair):
    client.force_login(manager)

    comparison = client.get(compare_url(project)).context["comparison"]

    assert (comparison.before.pk, comparison.after.pk) == (pair[0].pk, pair[1].pk)
    assert comparison.count_up == 2 and comparison.count_down == 1 and comparison.count_same == 25


def test_compare_ignores_audits_of_another_project(client, manager, project, pair, team, codes):
    other = project.__class__.objects.create(team=team, name="Other", slug="other")
    foreign = submit_audit(project=other, actor=manager, statuses={codes[0]: NOT_DONE})
    client.force_login(manager)

    response = client.get(f"{compare_url(project)}?a={foreign.pk}&b={pair[1].pk}")

    assert response.status_code == 200
    assert response.context["comparison"] is None


def test_outsider_gets_404_for_a_comparison(client, outsider, project, pair):
    client.force_login(outsider)

    assert client.get(compare_url(project, *pair)).status_code == 404
