"""On a phone (390 x 844 CSS pixels) the portfolio, result and trend pages fit the screen's width.

Wide tables scroll inside their own box; the page itself never scrolls sideways, band chips are never cut,
and the heatmap's project labels never overlap.
"""

import pytest
from django.urls import reverse

from audits.models import Project
from tests.dashboards.conftest import AUTOMATED, MANUAL, days_ago, sign_in_browser, submit_audit
from tests.dashboards.test_browser import rubric, wait_for_chart  # noqa: F401  # the rubric fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844}

# Elements sticking out of the page, as "tag.class (right edge in px)", to say what to fix.
OVERFLOW_REPORT = """() => {
    const limit = document.documentElement.clientWidth;
    return [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > limit + 1 && !el.closest('.table-wrap'))
        .slice(0, 8)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)})`);
}"""
# Band chips whose text does not fit inside them.
CUT_CHIPS = """() => [...document.querySelectorAll('.band, .tag')]
    .filter((el) => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right >
        (el.closest('.table-wrap') || document.documentElement).getBoundingClientRect().right + 1)
    .map((el) => el.textContent.trim())"""
# Pairs of heatmap column labels whose boxes overlap.
OVERLAPPING_LABELS = """(selector) => {
    const boxes = [...document.querySelectorAll(selector)].map((el) => el.getBoundingClientRect());
    const pairs = [];
    for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i], b = boxes[j];
            const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
                && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
            if (overlap) pairs.push([i, j]);
        }
    }
    return pairs;
}"""


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


@pytest.fixture
def portfolio_data(manager, project, team, codes, known_statuses):
    statuses = {code: (AUTOMATED if n % 3 == 0 else MANUAL) for n, code in enumerate(codes)}
    audits = [
        submit_audit(project=project, actor=manager, statuses={codes[0]: MANUAL}, when=days_ago(200)),
        submit_audit(project=project, actor=manager, statuses=known_statuses, when=days_ago(100)),
        submit_audit(project=project, actor=manager, statuses=statuses, when=days_ago(3)),
    ]
    # Long names and the longest band label ("Strongly tested ..."), as a real portfolio has.
    for number in range(12):
        other = Project.objects.create(team=team, name=f"Fraud detection model {number:02d}", slug=f"fraud-{number}")
        submit_audit(project=other, actor=manager, statuses={code: AUTOMATED for code in codes})
    return audits


def assert_fits_the_phone(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways ({width}): {page.evaluate(OVERFLOW_REPORT)}"
    assert page.evaluate(CUT_CHIPS) == []


def test_the_portfolio_fits_a_phone_with_whole_band_chips_and_separate_heatmap_labels(
    phone, live_server, manager, portfolio_data
):
    sign_in_browser(phone, live_server, manager)
    phone.goto(live_server.url + reverse("dashboards:portfolio"))
    for dom_id in ("band-counts", "status-heatmap"):
        wait_for_chart(phone, dom_id)

    assert_fits_the_phone(phone)
    for axis in ("xtick", "ytick"):
        labels = f"#status-heatmap .{axis} text"
        assert phone.locator(labels).count() > 0
        assert phone.evaluate(OVERLAPPING_LABELS, labels) == [], axis
    assert phone.evaluate(OVERLAPPING_LABELS, "#band-counts .xtick text") == []


def test_an_audit_result_fits_a_phone(phone, live_server, manager, portfolio_data):
    sign_in_browser(phone, live_server, manager)
    phone.goto(live_server.url + reverse("dashboards:audit-result", args=[portfolio_data[-1].pk]))
    wait_for_chart(phone, "section-scores")

    assert_fits_the_phone(phone)
    assert phone.evaluate(OVERLAPPING_LABELS, "#section-scores .xtick text") == []


def test_a_score_trend_fits_a_phone(phone, live_server, manager, project, portfolio_data):
    sign_in_browser(phone, live_server, manager)
    phone.goto(live_server.url + reverse("dashboards:project-trend", args=[project.slug]))
    wait_for_chart(phone, "trend")

    assert_fits_the_phone(phone)
    assert phone.evaluate(OVERLAPPING_LABELS, "#trend .xtick text") == []
    assert phone.evaluate(OVERLAPPING_LABELS, "#trend .annotation-text, #trend .legendtext") == []
