"""A campaign's page and progress: each project's latest score, status and next steps, per team, and a
burn-up that moves when a project submits an audit meeting the target; queries fixed in projects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.campaigns.selectors import MET, NOT_YET, OVERDUE, campaign_progress
from audits.campaigns.services import campaign_create, project_tags_set
from audits.models import Campaign, Project
from tests.campaigns.conftest import statuses_for_final, submit_audit, today
from tests.dashboards.conftest import days_ago

pytestmark = pytest.mark.django_db


def test_a_project_at_one_and_a_half_needs_one_item_per_section_to_reach_reasonably_tested(
    manager, project, bidder, codes, two_team_campaign
):
    submit_audit(project=project, actor=manager, statuses=statuses_for_final(codes, "1.5"), when=days_ago(40))

    progress = campaign_progress(campaign=two_team_campaign, user=manager)

    rows = {row.slug: row for row in progress.projects}
    assert rows["search-ranking"].final == 1.5 and rows["search-ranking"].status == NOT_YET
    # Fewest changes first: one item per section from not done to automated (+1 each) reaches 2.5.
    assert rows["search-ranking"].next_steps_count == 4
    assert {change.to_status for change in rows["search-ranking"].plan.changes} == {"automated"}
    assert rows["bidder"].final is None and rows["bidder"].status == NOT_YET
    assert (progress.total, progress.met, progress.days_left) == (2, 0, 30)


def test_burnup_and_progress_move_when_a_project_submits_an_audit_that_meets_the_target(
    client, manager, project, bidder, codes, two_team_campaign
):
    submit_audit(project=project, actor=manager, statuses=statuses_for_final(codes, "1.5"), when=days_ago(40))
    submit_audit(project=bidder, actor=manager, statuses=statuses_for_final(codes, "2.5"), when=days_ago(5))
    client.force_login(manager)
    url = reverse("campaigns:detail", args=[two_team_campaign.pk])

    before = client.get(url).context["progress"]
    submit_audit(project=project, actor=manager, statuses=statuses_for_final(codes, "3"))
    after = client.get(url).context["progress"]

    start = two_team_campaign.starts_on
    assert before.burnup == [(start, 0), (today() - timedelta(days=5), 1), (today(), 1)]
    assert after.burnup == [(start, 0), (today() - timedelta(days=5), 1), (today(), 2)]
    assert (before.met, after.met) == (1, 2)
    assert [row.status for row in after.projects] == [MET, MET]
    figure = client.get(url).context["chart"].payload["figure"]
    assert figure["data"][0]["y"] == [0, 1, 2] and figure["data"][1]["y"] == [2, 2]


def test_a_project_not_meeting_the_target_after_the_due_date_is_overdue(manager, project, team, codes, rubric):
    campaign = campaign_create(
        actor=manager,
        name="Past",
        target="2",
        teams=[team],
        starts_on=today() - timedelta(days=40),
        due_on=today() - timedelta(days=1),
    )
    submit_audit(project=project, actor=manager, statuses=statuses_for_final(codes, "1.5"), when=days_ago(30))

    progress = campaign_progress(campaign=campaign, user=manager)

    assert [row.status for row in progress.projects] == [OVERDUE]
    assert progress.days_left == -1
    assert progress.teams[0].overdue == 1


def test_the_per_team_summary_counts_projects_met_and_the_median_final(
    manager, project, bidder, ads, codes, two_team_campaign
):
    other = Project.objects.create(team=ads, name="Creative", slug="creative")
    submit_audit(project=bidder, actor=manager, statuses=statuses_for_final(codes, "3"))
    submit_audit(project=other, actor=manager, statuses=statuses_for_final(codes, "1"))

    teams = {team.slug: team for team in campaign_progress(campaign=two_team_campaign, user=manager).teams}

    assert (teams["ads"].projects, teams["ads"].met, teams["ads"].median_final) == (2, 1, 2)
    assert (teams["ranking"].projects, teams["ranking"].met, teams["ranking"].median_final) == (1, 0, None)


def test_a_tag_narrows_the_scope_and_each_user_sees_only_their_teams_projects(
    manager, viewer, project, bidder, team, ads, staff, rubric
):
    project_tags_set(actor=manager, project=project, names=["production"])
    project_tags_set(actor=manager, project=bidder, names=["production"])
    Project.objects.create(team=team, name="Sandbox", slug="sandbox")
    campaign = campaign_create(
        actor=staff, name="Tagged", target="2", tags=["production"], starts_on=today(), due_on=today()
    )

    assert [row.slug for row in campaign_progress(campaign=campaign, user=staff).projects] == [
        "bidder",
        "search-ranking",
    ]
    assert [row.slug for row in campaign_progress(campaign=campaign, user=viewer).projects] == ["search-ranking"]


def test_campaign_pages_answer_by_role(client, manager, viewer, outsider, two_team_campaign):
    detail = reverse("campaigns:detail", args=[two_team_campaign.pk])
    edit = reverse("campaigns:edit", args=[two_team_campaign.pk])
    client.force_login(viewer)
    assert client.get(detail).status_code == 200
    assert client.get(edit).status_code == 403
    assert client.get(reverse("campaigns:create")).status_code == 403
    client.force_login(outsider)
    assert client.get(detail).status_code == 404
    assert two_team_campaign.name not in client.get(reverse("campaigns:list")).content.decode()


def test_a_manager_creates_a_campaign_for_two_teams_with_the_form(client, manager, team, ads, rubric):
    client.force_login(manager)
    response = client.post(
        reverse("campaigns:create"),
        {
            "name": "Two teams",
            "target": "reasonably tested",
            "teams": [team.pk, ads.pk],
            "starts_on": today().isoformat(),
            "due_on": (today() + timedelta(days=30)).isoformat(),
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response.url == reverse("campaigns:detail", args=[campaign.pk])
    assert campaign.target_band == "Reasonably tested"
    assert sorted(campaign.teams.values_list("slug", flat=True)) == ["ads", "ranking"]


def test_the_form_names_the_refused_field(client, manager, team, rubric):
    client.force_login(manager)
    response = client.post(
        reverse("campaigns:create"),
        {"name": "Bad", "target": "99", "teams": [team.pk], "starts_on": "2026-05-02", "due_on": "2026-05-01"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"target", "due_on"}
    assert not Campaign.objects.exists()


def count_queries(client, url: str) -> int:
    client.get(url)  # warm per-process caches (rubric spec and labels)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_campaign_page_and_progress_queries_do_not_grow_with_projects(
    client, manager, team, codes, two_team_campaign, django_assert_max_num_queries
):
    client.force_login(manager)
    urls = [
        reverse("campaigns:detail", args=[two_team_campaign.pk]),
        reverse("api-campaign-progress", args=[two_team_campaign.pk]),
    ]
    for n in range(2):
        project = Project.objects.create(team=team, name=f"Model {n}", slug=f"model-{n}")
        submit_audit(project=project, actor=manager, statuses=statuses_for_final(codes, "1.5"), when=days_ago(3))
    small = [count_queries(client, url) for url in urls]
    for n in range(2, 12):
        project = Project.objects.create(team=team, name=f"Model {n}", slug=f"model-{n}")
        submit_audit(project=project, actor=manager, statuses=statuses_for_final(codes, "2.5"), when=days_ago(2))
        submit_audit(project=project, actor=manager, statuses=statuses_for_final(codes, "3"), when=days_ago(1))
    large = [count_queries(client, url) for url in urls]

    assert large == small
    with django_assert_max_num_queries(10):
        client.get(urls[0])
