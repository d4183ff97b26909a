"""The questionnaire page and an answer save read a fixed number of rows, whatever the audit's history."""

from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits import services
from audits.models import AnswerChange

# session, user, the audit with the user's role, answers with their history sizes, MLflow, the item owners with
# the members who may own items
PAGE_QUERIES = 6
SAVE_QUERIES = 9  # session, user, the audit with the role, BEGIN, touch the draft, lock answers, change, answer, COMMIT


def count_queries(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def page_queries(client, audit) -> int:
    def get():
        assert client.get(f"/audits/{audit.pk}/").status_code == 200

    get()  # the first request fills the per-process rubric caches
    return count_queries(get)


def save(client, audit, code, status):
    response = client.post(
        f"/audits/{audit.pk}/answers/{code}/", json.dumps({"status": status}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response


def test_the_page_reads_the_same_rows_with_no_answers_and_with_a_long_history(draft, editor, rubric, signed_in):
    client = signed_in(editor)
    empty = page_queries(client, draft)
    codes = list(rubric.items.values_list("code", flat=True))
    for code in codes:
        services.answer_save(actor=editor, audit=draft, item_code=code, status="manual")
    for round_ in range(4):
        for code in codes:
            services.answer_save(
                actor=editor, audit=draft, item_code=code, status=("automated", "not_done")[round_ % 2]
            )
    assert AnswerChange.objects.filter(answer__audit=draft).count() == 5 * len(codes)
    assert page_queries(client, draft) == empty == PAGE_QUERIES


def test_a_save_reads_the_same_rows_whatever_is_answered_already(draft, editor, rubric, signed_in):
    client = signed_in(editor)
    first, second, *others = list(rubric.items.values_list("code", flat=True))
    save(client, draft, first, "manual")
    save(client, draft, second, "manual")
    with_one_other = count_queries(lambda: save(client, draft, first, "automated"))
    for code in others:
        services.answer_save(actor=editor, audit=draft, item_code=code, status="manual")
    with_all = count_queries(lambda: save(client, draft, second, "automated"))
    assert with_one_other == with_all == SAVE_QUERIES


def test_a_saves_score_is_computed_from_every_answer_of_the_audit(draft, editor, rubric, signed_in):
    client = signed_in(editor)
    codes = list(rubric.items.order_by("section__order", "order").values_list("code", flat=True))
    for code in codes[1:]:
        services.answer_save(actor=editor, audit=draft, item_code=code, status="automated")
    score = save(client, draft, codes[0], "manual").json()["score"]
    assert score["answered"] == 28
    assert score["sections"]["data"]["score"] == "6.5"
    assert score["final"] == "6.5"
    assert score["weakest"] == ["data"]
