"""What guides a user through the questionnaire: sections with sums, the lowest marked, filters, folding,
histories read on demand, MLflow evidence only where a connection exists, and the drafts' scores."""

from __future__ import annotations

import re

import pytest

from audits import services
from integrations.mlflow.models import MlflowConnection


def codes_of(rubric) -> list[str]:
    return list(rubric.items.order_by("section__order", "order").values_list("code", flat=True))


def articles(content: str) -> dict[str, str]:
    """item code -> the opening tag of its <article>."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<article class="item" id="item-([\w-]+)"[^>]*>', content)}


def test_the_section_navigation_shows_each_sum_and_marks_the_lowest_section(draft, editor, rubric, signed_in):
    for code in codes_of(rubric)[7:]:  # every section but the first one gets points
        services.answer_save(actor=editor, audit=draft, item_code=code, status="automated")
    content = signed_in(editor).get(f"/audits/{draft.pk}/").content.decode()
    assert '<li class="section-nav__item is-weakest" data-section-nav="data">' in content
    assert '<li class="section-nav__item" data-section-nav="model">' in content
    assert 'data-section-progress="model" title="answered">7/7<' in content
    assert 'data-section-sum="model">7 / 7<' in content
    assert content.count("data-weakest-tag >Lowest section<") == 2  # in the navigation and in the heading


def test_filters_work_without_javascript_through_the_query_string(draft, editor, manager, rubric, signed_in):
    first, second, *_ = codes_of(rubric)
    services.answer_save(actor=editor, audit=draft, item_code=first, status="manual")
    services.answer_save(actor=manager, audit=draft, item_code=second, status="manual")
    client = signed_in(editor)

    unanswered = articles(client.get(f"/audits/{draft.pk}/?show=unanswered").content.decode())
    assert " hidden" in unanswered[first] and " hidden" in unanswered[second]
    assert sum(" hidden" not in tag for tag in unanswered.values()) == 26

    mine = articles(client.get(f"/audits/{draft.pk}/?show=mine").content.decode())
    assert [code for code, tag in mine.items() if " hidden" not in tag] == [first]

    everything = articles(client.get(f"/audits/{draft.pk}/?show=nonsense").content.decode())
    assert not any(" hidden" in tag for tag in everything.values())


def test_the_carried_over_filter_shows_only_answers_to_confirm(submitted, manager, item_code, signed_in):
    audit = services.audit_start(actor=manager, project=submitted.project, copy_from_latest=True)
    content = signed_in(manager).get(f"/audits/{audit.pk}/?show=carried").content.decode()
    shown = [code for code, tag in articles(content).items() if " hidden" not in tag]
    assert shown == [item_code]
    assert 'data-filter-count="carried">1<' in content
    assert "Traída de la auditoría anterior" not in content  # English page


def test_answered_items_fold_to_their_heading_on_request(draft, editor, item_code, signed_in):
    services.answer_save(actor=editor, audit=draft, item_code=item_code, status="manual")
    client = signed_in(editor)
    folded = client.get(f"/audits/{draft.pk}/?collapse=answered").content.decode()
    assert folded.count('<details class="item__fold">') == 1  # the answered one, closed
    assert folded.count('<details class="item__fold" open>') == 27
    assert "Expand every item" in folded
    assert client.get(f"/audits/{draft.pk}/").content.decode().count('<details class="item__fold" open>') == 28


def test_the_history_fragment_and_the_history_page_narrowed_to_one_item(draft, editor, rubric, signed_in):
    first, second, *_ = codes_of(rubric)
    services.answer_save(actor=editor, audit=draft, item_code=first, status="manual", notes="about the first")
    services.answer_save(actor=editor, audit=draft, item_code=second, status="manual", notes="about the second")
    client = signed_in(editor)
    page = client.get(f"/audits/{draft.pk}/").content.decode()
    assert f'href="/audits/{draft.pk}/history/?item={first}"' in page  # the no-script way to it
    narrowed = client.get(f"/audits/{draft.pk}/history/?item={first}").content.decode()
    assert "about the first" in narrowed and "about the second" not in narrowed
    assert client.get(f"/audits/{draft.pk}/items/no-such-item/history/").status_code == 404


@pytest.mark.parametrize("who", ["outsider", "anonymous"])
def test_an_items_history_is_not_shown_to_someone_who_cannot_see_the_audit(draft, users, item_code, signed_in, who):
    services.answer_save(actor=users["manager"], audit=draft, item_code=item_code, status="manual", notes="secret")
    response = signed_in(users[who]).get(f"/audits/{draft.pk}/items/{item_code}/history/")
    assert response.status_code in (302, 404)
    assert b"secret" not in response.content


def test_mlflow_evidence_appears_only_on_projects_with_an_mlflow_connection(draft, editor, project, signed_in):
    client = signed_in(editor)
    assert "Evidence from MLflow" not in client.get(f"/audits/{draft.pk}/").content.decode()
    MlflowConnection.objects.create(project=project, name="tracking", tracking_uri="http://127.0.0.1:5000")
    assert "Evidence from MLflow" in client.get(f"/audits/{draft.pk}/").content.decode()


def test_a_fully_answered_draft_shows_its_current_score_on_the_project_page(draft, editor, rubric, signed_in):
    for code in codes_of(rubric):
        services.answer_save(actor=editor, audit=draft, item_code=code, status="manual")
    content = signed_in(editor).get(f"/projects/{draft.project.slug}/").content.decode()
    assert '<span title="Current score of the draft" data-draft-score>3.5</span>' in content
    questionnaire = signed_in(editor).get(f"/audits/{draft.pk}/").content.decode()
    assert '<span class="score" data-final>3.5</span>' in questionnaire


def test_viewers_see_no_continue_link_on_drafts_they_cannot_edit(draft, viewer, editor, signed_in):
    url = f"/projects/{draft.project.slug}/"
    assert ">Continue</a>" not in signed_in(viewer).get(url).content.decode()
    assert ">Continue</a>" in signed_in(editor).get(url).content.decode()
