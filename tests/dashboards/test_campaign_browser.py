"""As a manager would, in Chromium: create a campaign for two teams due in 30 days, and watch its burn-up move
when a project submits an audit that meets the target."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import Membership, Project, Role, Team
from tests.campaigns.conftest import statuses_for_final
from tests.dashboards.conftest import days_ago, sign_in_browser, submit_audit
from tests.dashboards.test_browser import rubric, wait_for_chart  # noqa: F401  # the reloading rubric fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def burnup_counts(page) -> list[int]:
    return page.evaluate("() => document.getElementById('burnup').data[0].y")


@pytest.mark.usefixtures("rubric")
def test_a_managers_campaign_burnup_moves_when_a_project_meets_the_target(
    page, live_server, manager, team, project, codes
):
    ads = Team.objects.create(name="Ads", slug="ads")
    Membership.objects.create(team=ads, user=manager, role=Role.MANAGER)
    bidder = Project.objects.create(team=ads, name="Bidder", slug="bidder")
    submit_audit(project=project, actor=manager, statuses=statuses_for_final(codes, "1.5"), when=days_ago(20))
    sign_in_browser(page, live_server, manager)

    page.goto(live_server.url + "/campaigns/new/")
    page.fill("#id_name", "Two teams to Reasonably tested")
    page.fill("#id_target", "Reasonably tested")
    page.check(f"input[name='teams'][value='{team.pk}']")
    page.check(f"input[name='teams'][value='{ads.pk}']")
    today = timezone.localdate()
    page.fill("#id_starts_on", today.isoformat())
    page.fill("#id_due_on", (today + timedelta(days=30)).isoformat())
    page.click("form.card button[type='submit']")

    page.wait_for_selector("[data-testid='campaign-summary']")
    wait_for_chart(page, "burnup")
    assert burnup_counts(page) == [0]
    assert (
        page.locator("tr[data-project='search-ranking'] [data-testid='next-steps']").get_attribute("data-count") == "4"
    )
    assert "30 days left" in page.text_content("[data-testid='campaign-summary']")

    submit_audit(project=bidder, actor=manager, statuses=statuses_for_final(codes, "2.5"))
    page.reload()

    wait_for_chart(page, "burnup")
    assert burnup_counts(page) == [1]
    assert page.locator("tr[data-project='bidder'] [data-testid='status']").get_attribute("data-status") == "met"
    assert page.problems == []
