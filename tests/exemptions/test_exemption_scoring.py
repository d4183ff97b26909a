"""Exemptions in the pure scoring function and in the rules that decide which exemptions count."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from audits.exemptions.rules import counted_status, exemption_state
from rubric.scoring import RubricSpec, score_answers
from tests.test_scoring import CODES, SPEC

D = Decimal
TODAY = date(2026, 12, 3)
ANSWERED = st.sampled_from(["not_done", "manual", "automated", "not_applicable"])
STATES = st.sampled_from(["", "pending", "approved", "rejected"])
EXPIRIES = st.one_of(st.none(), st.integers(min_value=-400, max_value=800).map(lambda d: TODAY + timedelta(days=d)))
ANSWERS = st.dictionaries(st.sampled_from(CODES), st.tuples(ANSWERED, STATES, EXPIRIES))


def counted(answers):
    return {code: counted_status(status, state, expires, TODAY) for code, (status, state, expires) in answers.items()}


@given(answers=ANSWERS, exemption_points=st.sampled_from([None, D(0), D("0.5"), D(1)]))
def test_the_strict_score_is_never_above_the_score_with_exemptions(answers, exemption_points):
    spec = RubricSpec(sections=SPEC.sections, points=SPEC.points, bands=SPEC.bands, exemption_points=exemption_points)
    result = score_answers(spec, counted(answers))
    assert result.final_strict <= result.final


@given(answers=ANSWERS)
def test_only_approved_unexpired_exemptions_count(answers):
    result = score_answers(SPEC, counted(answers))
    expected = {
        code
        for code, (status, state, expires) in answers.items()
        if status == "not_applicable" and state == "approved" and (expires is None or expires >= TODAY)
    }
    assert set(result.exempted) == expected


@given(answers=ANSWERS)
def test_a_pending_exemption_never_counts_it_scores_as_not_done(answers):
    pending = {code: (status, state, expires) for code, (status, state, expires) in answers.items()}
    for code, (status, _state, expires) in answers.items():
        if status == "not_applicable":
            pending[code] = (status, "pending", expires)
    as_not_done = {
        code: ("not_done", "", None) if status == "not_applicable" else (status, state, expires)
        for code, (status, state, expires) in pending.items()
    }
    with_pending, without = score_answers(SPEC, counted(pending)), score_answers(SPEC, counted(as_not_done))
    assert with_pending.final == without.final
    assert with_pending.exempted == ()


@given(answers=ANSWERS)
def test_without_exemptions_the_strict_score_is_the_score(answers):
    plain = {code: (s, st_, e) for code, (s, st_, e) in answers.items() if s != "not_applicable"}
    result = score_answers(SPEC, counted(plain))
    assert result.final_strict == result.final
    assert result.exempted == ()


def test_an_approved_exemption_is_worth_the_top_points_by_default():
    one_section = SPEC.sections[0]
    answers = {code: "automated" for code in CODES}
    answers[one_section.item_codes[0]] = "not_applicable"
    result = score_answers(SPEC, answers)
    assert result.section(one_section.key).score == D(7)
    assert result.final == D(7)
    assert result.final_strict == D(6)


def test_the_rubric_can_make_an_exemption_worth_less():
    spec = RubricSpec(sections=SPEC.sections, points=SPEC.points, bands=SPEC.bands, exemption_points=D("0.5"))
    answers = {code: "automated" for code in CODES}
    answers["data-1"] = "not_applicable"
    assert score_answers(spec, answers).final == D("6.5")


def test_an_exemption_expires_after_its_last_day():
    yesterday, tomorrow = TODAY - timedelta(days=1), TODAY + timedelta(days=1)
    assert exemption_state("not_applicable", "approved", TODAY, TODAY) == "approved"
    assert exemption_state("not_applicable", "approved", yesterday, TODAY) == "expired"
    assert exemption_state("not_applicable", "pending", yesterday, TODAY) == "expired"
    assert exemption_state("not_applicable", "rejected", yesterday, TODAY) == "rejected"
    assert counted_status("not_applicable", "approved", tomorrow, TODAY) == "not_applicable"
    assert counted_status("not_applicable", "approved", yesterday, TODAY) == "not_done"
    assert counted_status("manual", "", None, TODAY) == "manual"
