from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audits.dashboards.portfolio_selectors import most_missed_items, portfolio
from audits.dashboards.views import PORTFOLIO_PAGE_SIZE
from audits.models import Project, Team
from audits.selectors import audit_score
from tests.conftest import make_user
from tests.dashboards.conftest import AUTOMATED, MANUAL, bulk_portfolio, days_ago, submit_audit, texts_marked

pytestmark = pytest.mark.django_db

PORTFOLIO = reverse("dashboards:portfolio")


@pytest.fixture
def three_projects(team, manager, codes, known_statuses):
    """alpha: 0 then 1.5 (recent); beta: 3 then 1.5 (overdue, 200 days ago); gamma: never audited."""
    alpha = Project.objects.create(team=team, name="Alpha", slug="alpha")
    beta = Project.objects.create(team=team, name="Beta", slug="beta", audit_cadence_days=90)
    gamma = Project.objects.create(team=team, name="Gamma", slug="gamma")
    Project.objects.filter(pk=gamma.pk).update(created_at=timezone.now() - timedelta(days=10))
    submit_audit(project=alpha, actor=manager, statuses={codes[0]: MANUAL}, when=days_ago(40))
    latest_alpha = submit_audit(project=alpha, actor=manager, statuses=known_statuses, when=days_ago(5))
    submit_audit(project=beta, actor=manager, statuses={code: AUTOMATED for code in codes[::2]}, when=days_ago(300))
    latest_beta = submit_audit(project=beta, actor=manager, statuses=known_statuses, when=days_ago(200))
    return {"alpha": latest_alpha, "beta": latest_beta, "gamma": gamma}


def row_of(html: str, slug: str) -> str:
    return html.split(f'data-project="{slug}"')[1].split("</tr>")[0]


def test_portfolio_is_the_landing_page():
    assert PORTFOLIO == "/"


def test_portfolio_rows_show_latest_final_change_and_overdue_flag(client, manager, three_projects):
    client.force_login(manager)

    html = client.get(PORTFOLIO).content.decode()

    assert audit_score(audit=three_projects["alpha"]).final == audit_score(audit=three_projects["beta"]).final
    alpha, beta, gamma = row_of(html, "alpha"), row_of(html, "beta"), row_of(html, "gamma")
    assert texts_marked(alpha, "final") == ["1.5"] and texts_marked(alpha, "change") == ["+1.5"]
    assert texts_marked(beta, "final") == ["1.5"] and texts_marked(beta, "change") == ["-1.5"]
    assert texts_marked(gamma, "final") == ["—"]
    assert "First steps" in alpha and "Not audited yet" in gamma
    assert 'data-testid="overdue"' in beta
    assert 'data-testid="overdue"' not in alpha and 'data-testid="overdue"' not in gamma


def test_portfolio_sorts_by_final_score_descending(client, manager, three_projects, team, codes):
    top = Project.objects.create(team=team, name="Top", slug="top")
    submit_audit(project=top, actor=manager, statuses={code: AUTOMATED for code in codes})
    client.force_login(manager)

    rows = client.get(PORTFOLIO, {"ordering": "-score"}).context["lines"]

    assert [line["slug"] for line in rows] == ["top", "alpha", "beta", "gamma"]


def test_portfolio_filters_by_team_and_band(client, manager, three_projects, codes):
    other_team = Team.objects.create(name="Vision", slug="vision")
    other_team.memberships.create(user=manager, role="manager")
    vision = Project.objects.create(team=other_team, name="Vision model", slug="vision-model")
    submit_audit(project=vision, actor=manager, statuses={code: AUTOMATED for code in codes})
    client.force_login(manager)

    by_team = client.get(PORTFOLIO, {"team": "vision"}).context["lines"]
    by_band = client.get(PORTFOLIO, {"band": "First steps"}).context["lines"]

    assert [line["slug"] for line in by_team] == ["vision-model"]
    assert [line["slug"] for line in by_band] == ["alpha", "beta"]


def test_portfolio_counts_projects_per_band(client, manager, three_projects):
    client.force_login(manager)

    chart = client.get(PORTFOLIO).context["band_chart"]

    bar = chart.payload["figure"]["data"][0]
    counts = dict(zip(bar["x"], bar["y"], strict=True))
    assert counts["First steps"] == 2
    assert counts["Not audited yet"] == 1
    assert sum(counts.values()) == 3


def test_portfolio_ranks_the_most_missed_tests(client, manager, team, codes):
    for index in range(3):
        project = Project.objects.create(team=team, name=f"P{index}", slug=f"p{index}")
        # codes[0] is done everywhere, codes[1] in one project only, the rest nowhere.
        statuses = {codes[0]: AUTOMATED}
        if index == 0:
            statuses[codes[1]] = MANUAL
        submit_audit(project=project, actor=manager, statuses=statuses)
    client.force_login(manager)

    missed = client.get(PORTFOLIO).context["most_missed"]

    assert [entry.not_done for entry in missed] == [3] * 10
    assert codes[0] not in [entry.item.code for entry in missed]
    assert codes[1] not in [entry.item.code for entry in missed]
    html = client.get(PORTFOLIO).content.decode()
    assert f'data-item="{codes[2]}" data-not-done="3"' in html


def test_portfolio_heatmap_shows_each_items_status_for_the_projects_on_the_page(client, manager, three_projects, codes):
    client.force_login(manager)

    heatmap = client.get(PORTFOLIO).context["heatmap"].payload["figure"]["data"][0]

    assert heatmap["x"] == ["Alpha", "Beta", "Gamma"]
    assert heatmap["y"] == codes
    z_by_code = dict(zip(heatmap["y"], heatmap["z"], strict=True))
    assert z_by_code[codes[0]] == [1.0, 1.0, None]  # automated in both latest audits; Gamma has none
    assert z_by_code[codes[10]] == [0.5, 0.5, None]  # manual
    assert z_by_code[codes[27]] == [0.0, 0.0, None]  # unanswered counts as not done


def test_portfolio_pages_the_table_and_heatmap_at_many_projects(client, manager, team, rubric):
    bulk_portfolio(team=team, rubric=rubric, user=manager, projects=PORTFOLIO_PAGE_SIZE + 5, audits=1)
    client.force_login(manager)

    first = client.get(PORTFOLIO)
    second = client.get(PORTFOLIO, {"page": 2})

    assert len(first.context["lines"]) == PORTFOLIO_PAGE_SIZE
    assert len(second.context["lines"]) == 5
    heatmap = second.context["heatmap"].payload["figure"]["data"][0]
    assert len(heatmap["x"]) == 5
    assert first.context["most_missed"][0].audited == PORTFOLIO_PAGE_SIZE + 5


def test_portfolio_shows_only_projects_the_user_can_see(client, outsider, three_projects):
    client.force_login(outsider)

    response = client.get(PORTFOLIO)

    assert response.status_code == 200
    assert response.context["lines"] == []
    assert "alpha" not in response.content.decode()


def test_portfolio_of_a_user_without_teams_is_empty_but_works(client):
    client.force_login(make_user("newcomer"))

    response = client.get(PORTFOLIO)

    assert response.status_code == 200
    assert response.context["heatmap"] is None


def test_most_missed_counts_audits_on_an_older_rubric_version_under_the_same_tests(
    client, manager, team, rubric, codes
):
    import yaml

    from rubric.loader import parse_rubric, save_rubric

    with open("rubric/data/ml-test-score-2017.yaml", encoding="utf-8") as source:
        data = yaml.safe_load(source)
    data["version"] = "2016-test"
    older, _ = save_rubric(parse_rubric(data))
    old_project = Project.objects.create(team=team, name="Legacy", slug="legacy")
    new_project = Project.objects.create(team=team, name="Modern", slug="modern")
    newer_first = Project.objects.create(team=team, name="Modern two", slug="modern-two")
    # The older version's audit: data-1 automated. Two audits on the current version: data-1 not answered.
    submit_audit(project=old_project, actor=manager, statuses={codes[0]: AUTOMATED}, rubric=older)
    submit_audit(project=new_project, actor=manager, statuses={codes[1]: AUTOMATED}, rubric=rubric)
    submit_audit(project=newer_first, actor=manager, statuses={codes[1]: AUTOMATED}, rubric=rubric)

    data = portfolio(user=manager)
    ranked = most_missed_items(
        items=data.items, item_codes=data.item_codes, audit_ids=[entry.latest_audit_id for entry in data.entries]
    )

    assert data.rubric == rubric  # the version most latest audits use
    misses = {entry.item.code: entry.not_done for entry in ranked}
    assert misses[codes[0]] == 2  # done in the legacy audit, on the older version
    assert misses[codes[1]] == 1
    assert misses[codes[2]] == 3
