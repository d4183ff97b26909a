"""The API lists run a fixed number of SQL queries, whatever the number of rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import add_projects, submit_known

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/projects/", "/api/v1/portfolio/", "/api/v1/projects/model-000/audits/", "/api/v1/rubrics/"],
)
def test_list_query_counts_do_not_grow_with_rows(client_as, team, manager, url):
    one_answer = [{"item": "data-1", "status": "manual"}]
    projects = add_projects(team, 2)
    for project in projects:
        submit_known(project, manager, one_answer)
    client = client_as("manager")
    client.get(url)  # warm per-process caches (rubric specs) and the token's last-used time
    few = count_queries(client, url)

    more = add_projects(team, 8, start=2)
    for project in more:
        submit_known(project, manager, one_answer)
    for _ in range(5):
        submit_known(projects[0], manager, one_answer)
    many = count_queries(client, url)
    assert many == few


def test_a_token_request_for_a_list_takes_four_queries(client_as, team, staff):
    add_projects(team, 3)
    client = client_as("staff")
    client.get("/api/v1/projects/")
    # The token with its user, the count for pagination, the page itself and the tags of its projects.
    assert count_queries(client, "/api/v1/projects/") == 4
