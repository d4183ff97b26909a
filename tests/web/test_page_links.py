"""Links to what a user looks for: the result page's three exports, and a portfolio row's project and trend."""

from __future__ import annotations

from django.test import Client

from audits import services


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_result_page_offers_the_three_exports(viewer, manager, project, rubric):
    audit = services.audit_start(actor=manager, project=project, rubric=rubric)
    services.audit_submit(actor=manager, audit=audit)
    client = signed_in(viewer)
    page = client.get(f"/audits/{audit.pk}/result/").content.decode()
    for fmt in ("md", "csv", "json"):
        assert f'href="/api/v1/audits/{audit.pk}/export/?format={fmt}"' in page
    exported = client.get(f"/api/v1/audits/{audit.pk}/export/?format=md")
    assert exported.status_code == 200 and b"Search ranking" in exported.content


def test_a_project_name_in_the_portfolio_opens_the_project_and_the_change_opens_its_trend(
    viewer, manager, project, rubric
):
    services.audit_submit(actor=manager, audit=services.audit_start(actor=manager, project=project, rubric=rubric))
    page = signed_in(viewer).get("/").content.decode()
    assert '<a href="/projects/search-ranking/">Search ranking</a>' in page
    assert 'href="/projects/search-ranking/trend/"' in page
