"""The charts draw in real headless Chromium, with no console errors and no request leaving the machine."""

import re

import pytest
from django.urls import reverse

from audits.models import Project
from tests.dashboards.conftest import AUTOMATED, MANUAL, days_ago, sign_in_browser, submit_audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def rubric(transactional_db):
    """The built-in rubric, reloaded if a flush between live-server tests removed it (the loader is idempotent)."""
    from rubric.loader import load_rubric_file
    from rubric.models import Rubric
    from rubric.selectors import BUILTIN_SLUG

    existing = Rubric.objects.filter(slug=BUILTIN_SLUG, version="2017").first()
    return existing or load_rubric_file("rubric/data/ml-test-score-2017.yaml")[0]


@pytest.fixture
def history(manager, project, codes, known_statuses):
    return [
        submit_audit(project=project, actor=manager, statuses={codes[0]: MANUAL}, when=days_ago(200)),
        submit_audit(project=project, actor=manager, statuses=known_statuses, when=days_ago(100)),
        submit_audit(
            project=project, actor=manager, statuses={code: AUTOMATED for code in codes[::2]}, when=days_ago(3)
        ),
    ]


def wait_for_chart(page, dom_id: str) -> None:
    page.wait_for_selector(f"#{dom_id}[data-drawn='true'] svg.main-svg", state="attached", timeout=20000)


def test_trend_chart_draws_and_a_click_on_a_point_opens_that_audit(page, live_server, manager, project, history):
    sign_in_browser(page, live_server, manager)
    page.goto(live_server.url + reverse("dashboards:project-trend", args=[project.slug]))

    wait_for_chart(page, "trend")
    final_points = page.locator("#trend .scatterlayer .trace").last.locator(".points path")
    assert final_points.count() == 3
    box = final_points.nth(1).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    page.wait_for_url(re.compile(rf"/audits/{history[1].pk}/result/$"), timeout=10000)
    wait_for_chart(page, "section-scores")
    assert page.problems == []


def test_portfolio_charts_draw_without_console_errors(page, live_server, manager, project, history, team, codes):
    other = Project.objects.create(team=team, name="Fraud model", slug="fraud-model")
    submit_audit(project=other, actor=manager, statuses={code: MANUAL for code in codes[:20]})
    sign_in_browser(page, live_server, manager)

    page.goto(live_server.url + reverse("dashboards:portfolio"))

    for dom_id in ("band-counts", "band-history", "status-heatmap"):
        wait_for_chart(page, dom_id)
    assert page.locator("#status-heatmap .heatmaplayer").count() == 1
    assert page.locator("[data-testid='portfolio-table'] tbody tr").count() == 2
    assert page.problems == []


def test_compare_chart_draws_without_console_errors(page, live_server, manager, project, history):
    sign_in_browser(page, live_server, manager)

    page.goto(live_server.url + reverse("dashboards:compare", args=[project.slug]))

    wait_for_chart(page, "section-deltas")
    assert page.locator("tr[data-direction='up']").count() > 0
    assert page.problems == []


def test_the_browser_enforces_the_sites_content_security_policy(page, live_server, manager):
    """Guards the chart tests above: a blocked inline script would show up as a problem."""
    sign_in_browser(page, live_server, manager)
    page.goto(live_server.url + reverse("dashboards:portfolio"))

    page.evaluate(
        """() => {
            const script = document.createElement('script');
            script.textContent = 'window.ran = 1';
            document.body.append(script);
        }"""
    )

    assert page.evaluate("() => window.ran") is None
    assert any("Content Security Policy" in problem for problem in page.problems)
    page.problems.clear()  # the violation was this test's own doing
