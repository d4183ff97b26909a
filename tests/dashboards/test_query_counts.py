"""Every dashboard page runs a fixed number of SQL queries, whatever the number of projects, audits and answers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.dashboards.conftest import bulk_portfolio

pytestmark = pytest.mark.django_db

# Session, user, and the page's own reads; generous enough for a new middleware query, far below an N+1.
# The result page also reads the next steps' owners and each evidence source's findings (one query each).
MAX_QUERIES = {"portfolio": 9, "trend": 7, "result": 8, "compare": 8}


def count_queries(client, url: str) -> int:
    client.get(url)  # warm per-process caches (the rubric's scoring spec)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def page_urls(project, audit_ids) -> dict[str, str]:
    return {
        "portfolio": reverse("dashboards:portfolio"),
        "trend": reverse("dashboards:project-trend", args=[project.slug]),
        "result": reverse("dashboards:audit-result", args=[audit_ids[-1]]),
        "compare": reverse("dashboards:compare", args=[project.slug]),
    }


def test_query_counts_do_not_grow_with_projects_audits_or_answers(client, manager, team, rubric):
    client.force_login(manager)
    small = bulk_portfolio(team=team, rubric=rubric, user=manager, projects=3, audits=2)
    small_ids = list(small[0].audits.values_list("pk", flat=True))
    small_counts = {name: count_queries(client, url) for name, url in page_urls(small[0], small_ids).items()}

    large = bulk_portfolio(team=team, rubric=rubric, user=manager, projects=30, audits=12)
    large_ids = list(large[0].audits.values_list("pk", flat=True))
    large_counts = {name: count_queries(client, url) for name, url in page_urls(large[0], large_ids).items()}

    assert large_counts == small_counts
    for name, count in large_counts.items():
        assert count <= MAX_QUERIES[name], name


@pytest.mark.parametrize("projects", [3, 30])
def test_portfolio_stays_within_its_query_budget(
    client, manager, team, rubric, projects, django_assert_max_num_queries
):
    bulk_portfolio(team=team, rubric=rubric, user=manager, projects=projects, audits=3)
    client.force_login(manager)
    client.get(reverse("dashboards:portfolio"))

    with django_assert_max_num_queries(MAX_QUERIES["portfolio"]):
        client.get(reverse("dashboards:portfolio"), {"ordering": "-change"})
