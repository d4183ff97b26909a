from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rubric.loader import BUILTIN_RUBRIC, read_rubric_file
from rubric.scoring import BandSpec, RubricSpec, SectionSpec, UnknownStatusError, band_for, score_answers

D = Decimal
STATUSES = ["not_done", "manual", "automated"]
RANK = {status: rank for rank, status in enumerate(STATUSES)}


def spec_from_document() -> RubricSpec:
    """The built-in rubric as a spec, straight from its data file (no database)."""
    data = read_rubric_file(BUILTIN_RUBRIC).data
    return RubricSpec(
        sections=tuple(
            SectionSpec(s["key"], s["title"], tuple(i["code"] for i in s["items"])) for s in data["sections"]
        ),
        points={k: D(str(v)) for k, v in data["points"].items()},
        bands=tuple(
            BandSpec(
                D(str(b["lower"])) if "lower" in b else None,
                D(str(b["upper"])) if "upper" in b else None,
                b["label"],
            )
            for b in data["bands"]
        ),
    )


SPEC = spec_from_document()
CODES = [code for section in SPEC.sections for code in section.item_codes]


def test_no_answers_scores_zero_everywhere_in_the_lowest_band():
    result = score_answers(SPEC, {})
    assert result.final == 0
    assert [s.score for s in result.sections] == [0, 0, 0, 0]
    assert result.weakest == ("data", "model", "infra", "monitoring")
    assert result.band == SPEC.bands[0]
    assert (result.answered, result.total) == (0, 28)


def test_hand_worked_audit_takes_the_weakest_section_as_final():
    answers = {
        # data: 1 + 1 + 0.5 + 0.5 + 0 + 0 + 1 = 4
        "data-1": "automated", "data-2": "automated", "data-3": "manual", "data-4": "manual",
        "data-5": "not_done", "data-7": "automated",
        # model: 0.5 * 5 = 2.5
        "model-1": "manual", "model-2": "manual", "model-3": "manual", "model-4": "manual", "model-5": "manual",
        # infra: 7 automated = 7
        **{f"infra-{n}": "automated" for n in range(1, 8)},
        # monitoring: 1 + 1 + 0.5 = 2.5
        "monitoring-1": "automated", "monitoring-2": "automated", "monitoring-3": "manual",
    }  # fmt: skip
    result = score_answers(SPEC, answers)
    assert {s.key: s.score for s in result.sections} == {
        "data": D("4"),
        "model": D("2.5"),
        "infra": D("7"),
        "monitoring": D("2.5"),
    }
    assert result.final == D("2.5")
    assert result.weakest == ("model", "monitoring")
    assert result.band is not None and (result.band.lower, result.band.upper) == (D(2), D(3))
    assert result.section("infra").max == D(7)
    assert result.answered == 6 + 5 + 7 + 3


@pytest.mark.parametrize(
    ("value", "bounds"),
    [
        ("0", (None, D(0))),
        ("0.5", (D(0), D(1))),
        ("1", (D(0), D(1))),
        ("1.5", (D(1), D(2))),
        ("3", (D(2), D(3))),
        ("3.5", (D(3), D(5))),
        ("5", (D(3), D(5))),
        ("5.5", (D(5), None)),
        ("7", (D(5), None)),
    ],
)
def test_band_intervals_are_left_open_and_right_closed(value, bounds):
    band = band_for(SPEC.bands, D(value))
    assert band is not None
    assert (band.lower, band.upper) == bounds


def test_unknown_status_is_refused():
    with pytest.raises(UnknownStatusError):
        score_answers(SPEC, {"data-1": "maybe"})


def test_shape_comes_from_the_rubric_not_from_four_by_seven():
    spec = RubricSpec(
        sections=(SectionSpec("ops", "Ops", ("o1", "o2", "o3")), SectionSpec("safety", "Safety", ("s1",))),
        points={"not_done": D(0), "manual": D(1), "automated": D(2)},
        bands=(BandSpec(None, D(1), "low"), BandSpec(D(1), None, "high")),
    )
    result = score_answers(spec, {"o1": "automated", "o2": "manual", "s1": "automated"})
    assert [(s.key, s.score, s.max) for s in result.sections] == [("ops", D(3), D(6)), ("safety", D(2), D(2))]
    assert result.final == D(2)
    assert result.weakest == ("safety",)
    assert result.band is not None and result.band.label == "high"


answer_sets = st.dictionaries(st.sampled_from(CODES), st.sampled_from(STATUSES))


@given(answer_sets)
def test_final_is_the_minimum_of_the_section_scores(answers):
    result = score_answers(SPEC, answers)
    assert result.final == min(s.score for s in result.sections)
    assert set(result.weakest) == {s.key for s in result.sections if s.score == result.final}


@given(answer_sets, st.sampled_from(CODES), st.sampled_from(STATUSES))
def test_raising_an_answer_never_lowers_any_score(answers, code, new_status):
    current = answers.get(code, "not_done")
    if RANK[new_status] < RANK[current]:
        current, new_status = new_status, current
    lower = score_answers(SPEC, {**answers, code: current})
    higher = score_answers(SPEC, {**answers, code: new_status})
    assert higher.final >= lower.final
    for before, after in zip(lower.sections, higher.sections, strict=True):
        assert after.score >= before.score


@given(answer_sets)
def test_unanswered_counts_as_not_done(answers):
    filled = {code: answers.get(code, "not_done") for code in CODES}
    sparse, full = score_answers(SPEC, answers), score_answers(SPEC, filled)
    assert [s.score for s in sparse.sections] == [s.score for s in full.sections]
    assert sparse.final == full.final
    assert sparse.band == full.band


@given(st.integers(min_value=0, max_value=14))
def test_every_score_from_zero_to_seven_falls_in_exactly_one_band(halves):
    value = D(halves) / 2
    assert sum(1 for band in SPEC.bands if band.contains(value)) == 1
