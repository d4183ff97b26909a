"""What a user looks for: evidence changes and the submit in the history, exports on the result page, the
project behind a portfolio name."""

from __future__ import annotations

from django.test import Client

from audits import services


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_history_names_the_links_a_change_added_and_removed_and_records_the_submit(manager, project, rubric):
    audit = services.audit_start(actor=manager, project=project, rubric=rubric)
    first = services.answer_save(
        actor=manager, audit=audit, item_code="data-1", status="manual", evidence=["https://wiki.example.com/old"]
    )
    services.answer_save(
        actor=manager,
        audit=audit,
        item_code="data-1",
        status="manual",
        evidence=["https://ci.example.com/new"],
        base_version=first.version,
    )
    services.audit_submit(actor=manager, audit=audit)
    page = signed_in(manager).get(f"/audits/{audit.pk}/history/").content.decode()
    assert '<li class="added"><span aria-label="added">+</span> https://ci.example.com/new</li>' in page
    assert "<s>https://wiki.example.com/old</s>" in page
    assert 'data-event="submitted"' in page and "Submitted the audit" in page


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
