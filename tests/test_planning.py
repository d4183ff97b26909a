"""The path to the next band (rubric.planning): examples on the built-in rubric, and properties checked
against a brute force over every way of raising the answers of small random rubrics."""

from decimal import Decimal
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rubric.planning import LADDER, UnknownBandError, next_band, next_steps, parse_target, step_cost
from rubric.scoring import BandSpec, RubricSpec, SectionSpec, score_answers
from tests.test_scoring import SPEC

D = Decimal
EXEMPT = "not_applicable"  # a fixed status another feature scores: the planner must never change it


def band(label: str) -> BandSpec:
    return next(b for b in SPEC.bands if b.label == label)


def monitoring_at_1_5() -> dict[str, str]:
    """Every section but monitoring at 7; monitoring at 1.5 (one automated, one manual, five not done)."""
    answers = {code: "automated" for section in SPEC.sections for code in section.item_codes}
    answers.update({f"monitoring-{n}": "not_done" for n in range(1, 8)})
    answers.update({"monitoring-1": "automated", "monitoring-2": "manual"})
    return answers


def two_sections_at_1_5() -> dict[str, str]:
    """The issue's example: model and monitoring at 1.5, data and infrastructure at 7."""
    answers = monitoring_at_1_5()
    answers.update({f"model-{n}": "not_done" for n in range(1, 8)})
    answers.update({"model-1": "manual", "model-2": "manual", "model-3": "manual"})
    return answers


def test_a_project_at_1_5_reaches_2_with_exactly_two_items_made_manual():
    plan = next_steps(SPEC, two_sections_at_1_5(), D(2))
    assert (plan.current, plan.target, plan.reachable, plan.final_after) == (D("1.5"), D(2), True, D(2))
    assert [(c.item, c.from_status, c.to_status, c.gain) for c in plan.changes] == [
        ("model-4", "not_done", "manual", D("0.5")),
        ("monitoring-3", "not_done", "manual", D("0.5")),
    ]


def test_a_project_at_1_5_reaches_the_next_band_with_exactly_two_items_automated():
    plan = next_steps(SPEC, two_sections_at_1_5())
    assert plan.band == band("Reasonably tested")
    assert (plan.target, plan.exclusive, plan.reachable) == (D(2), True, True)
    # Above 2 means 2.5 in both sections: one answer straight to automated in each is the fewest changes.
    assert [(c.item, c.from_status, c.to_status, c.gain) for c in plan.changes] == [
        ("model-4", "not_done", "automated", D(1)),
        ("monitoring-3", "not_done", "automated", D(1)),
    ]
    assert plan.final_after == D("2.5")


def test_exempt_items_are_never_changed_and_manual_ones_are_automated_when_nothing_else_is_left():
    answers = {code: "automated" for section in SPEC.sections for code in section.item_codes}
    answers.update({"monitoring-1": "manual", "monitoring-2": "manual", "monitoring-3": "manual"})
    answers.update({f"monitoring-{n}": EXEMPT for n in (4, 5, 6, 7)})
    spec = RubricSpec(SPEC.sections, {**SPEC.points, EXEMPT: D(0)}, SPEC.bands)
    assert score_answers(spec, answers).final == D("1.5")
    plan = next_steps(spec, answers, "Reasonably tested")
    assert plan.reachable
    assert [(c.item, c.from_status, c.to_status) for c in plan.changes] == [
        ("monitoring-1", "manual", "automated"),
        ("monitoring-2", "manual", "automated"),
    ]
    assert plan.final_after == D("2.5")
    assert not next_steps(spec, answers, D(4)).reachable  # 3 items at most: 3 points


def test_a_score_target_is_reached_at_the_score_and_a_band_above_its_lower_bound():
    answers = monitoring_at_1_5()
    by_score = next_steps(SPEC, answers, D(2))
    assert (by_score.reachable, by_score.final_after, len(by_score.changes)) == (True, D(2), 1)
    assert by_score.changes[0].from_status == "not_done" and by_score.changes[0].to_status == "manual"
    assert by_score.changes[0].item == "monitoring-3"  # the first not-done item in rubric order
    by_band = next_steps(SPEC, answers, "Reasonably tested")
    assert by_band.final_after == D("2.5")
    assert by_band.final_after > band("Reasonably tested").lower  # type: ignore[operator]


def test_evidence_puts_an_item_first_among_equally_cheap_steps():
    answers = monitoring_at_1_5()
    plan = next_steps(SPEC, answers, D(2), evidence_items=frozenset({"monitoring-6"}))
    assert [c.item for c in plan.changes] == ["monitoring-6"]


def test_evidence_never_makes_a_plan_longer_or_dearer():
    answers = monitoring_at_1_5()
    # monitoring-2 is manual: manual -> automated costs 2, not done -> manual costs 1; evidence does not win.
    plan = next_steps(SPEC, answers, D(2), evidence_items=frozenset({"monitoring-2"}))
    assert [(c.item, c.to_status) for c in plan.changes] == [("monitoring-3", "manual")]


def test_only_the_sections_holding_the_final_down_get_changes():
    answers = two_sections_at_1_5()
    answers.update({"data-1": "manual", "data-2": "not_done", "data-3": "not_done", "data-4": "not_done"})
    assert score_answers(SPEC, answers).section("data").score == D("3.5")
    plan = next_steps(SPEC, answers, D(3))
    assert {c.section for c in plan.changes} == {"model", "monitoring"}
    assert plan.final_after == D(3)


def test_a_target_above_the_maximum_is_unreachable_not_an_error():
    plan = next_steps(SPEC, {}, D(8))
    assert (plan.reachable, plan.changes, plan.final_after) == (False, (), D(0))


def test_the_top_band_takes_six_items_per_section_the_last_one_only_manual():
    plan = next_steps(SPEC, {}, "Exceptional")  # above 5: 5.5 is enough, and manual is cheaper
    assert plan.reachable and plan.final_after == D("5.5")
    assert len(plan.changes) == 24
    assert [c.to_status for c in plan.changes[:6]] == ["automated"] * 5 + ["manual"]


def test_a_target_already_met_needs_no_changes():
    answers = monitoring_at_1_5()
    for target in (D("1.5"), D(0), "First steps", "Research project", D(-3)):
        plan = next_steps(SPEC, answers, target)
        assert (plan.reachable, plan.changes, plan.final_after) == (True, (), D("1.5"))


def test_the_default_target_is_the_next_band_and_at_the_top_the_current_one():
    assert next_band(SPEC, D("1.5")) == band("Reasonably tested")
    assert next_band(SPEC, D(2)) == band("Reasonably tested")  # 2 is still First steps: (1, 2]
    assert next_band(SPEC, D(0)) == band("Serious gaps")
    assert next_band(SPEC, D("5.5")) is None
    everything = {code: "automated" for section in SPEC.sections for code in section.item_codes}
    top = next_steps(SPEC, everything)
    assert (top.reachable, top.changes, top.band) == (True, (), band("Exceptional"))


def test_targets_parse_as_scores_or_band_labels_and_unknown_labels_are_refused():
    assert parse_target(SPEC, "2.5") == D("2.5")
    assert parse_target(SPEC, " reasonably TESTED ") == band("Reasonably tested")
    for bad in ("Pretty good", "NaN", "inf", ""):
        with pytest.raises(UnknownBandError):
            parse_target(SPEC, bad)
    with pytest.raises(UnknownBandError):
        next_steps(SPEC, {}, "Pretty good")


def test_steps_cost_more_the_higher_they_climb():
    assert [step_cost("not_done", "manual"), step_cost("manual", "automated"), step_cost("not_done", "automated")] == [
        1,
        2,
        3,
    ]


# --- properties against brute force -------------------------------------------------------------------


@st.composite
def rubrics_and_audits(draw):
    manual = draw(st.sampled_from([D("0.25"), D("0.5"), D(1)]))
    automated = manual + draw(st.sampled_from([D("0.25"), D("0.5"), D(1)]))
    points = {"not_done": D(0), "manual": manual, "automated": automated, EXEMPT: draw(st.sampled_from([D(0), D(1)]))}
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    sections = tuple(
        SectionSpec(f"s{n}", f"S{n}", tuple(f"s{n}-{i}" for i in range(size))) for n, size in enumerate(sizes)
    )
    lowers = sorted(set(draw(st.lists(st.sampled_from([D(x) / 4 for x in range(0, 20)]), min_size=1, max_size=4))))
    uppers = [*lowers[1:], None]
    bands = (
        BandSpec(None, lowers[0], "b0"),
        *(BandSpec(low, high, f"b{n + 1}") for n, (low, high) in enumerate(zip(lowers, uppers, strict=True))),
    )
    spec = RubricSpec(sections, points, bands)
    codes = [code for section in sections for code in section.item_codes]
    answers = {code: draw(st.sampled_from([None, *LADDER, EXEMPT])) for code in codes}
    evidence = frozenset(draw(st.lists(st.sampled_from(codes), max_size=3)))
    target = draw(
        st.one_of(
            st.none(),
            st.sampled_from([b.label for b in bands]),
            st.sampled_from([D(x) / 4 for x in range(-2, 4 * 4 * 2 + 2)]),
        )
    )
    return spec, answers, evidence, target


def brute_force(spec, answers, evidence, met):
    """Every way of raising the ladder answers; the best reaching the target by the planner's objective."""
    codes = [code for section in spec.sections for code in section.item_codes]
    choices = []
    for code in codes:
        status = answers.get(code) or "not_done"
        if status in LADDER:
            choices.append([None, *[s for s in LADDER if LADDER.index(s) > LADDER.index(status)]])
        else:
            choices.append([None])
    best = None
    for picks in product(*choices):
        after = dict(answers)
        changed = []
        for index, (code, pick) in enumerate(zip(codes, picks, strict=True)):
            if pick is not None:
                after[code] = pick
                changed.append((index, pick))
        if not met(score_answers(spec, after).final):
            continue
        cost = sum(step_cost(answers.get(codes[i]) or "not_done", s) for i, s in changed)
        key = (len(changed), cost, -sum(1 for i, _s in changed if codes[i] in evidence), tuple(changed))
        best = key if best is None or key < best else best
    return best


@settings(max_examples=300, deadline=None, derandomize=True)
@given(rubrics_and_audits())
def test_the_plan_is_the_fewest_then_cheapest_changes_that_reach_the_target(case):
    spec, answers, evidence, target = case
    plan = next_steps(spec, answers, target, evidence)
    current = score_answers(spec, answers).final
    assert plan.current == current

    def met(value):
        if plan.target is None:
            return True
        return value > plan.target if plan.exclusive else value >= plan.target

    best = brute_force(spec, answers, evidence, met)
    assert plan.reachable == (best is not None)
    if best is None:
        assert plan.changes == () and plan.final_after == current
        return
    codes = [code for section in spec.sections for code in section.item_codes]
    chosen = tuple((codes.index(c.item), c.to_status) for c in plan.changes)
    count, cost, neg_evidence, picks = best
    assert (len(plan.changes), plan.cost) == (count, cost)
    assert -sum(1 for c in plan.changes if c.item in evidence) == neg_evidence
    assert chosen == picks
    after = {**answers, **{c.item: c.to_status for c in plan.changes}}
    assert plan.final_after == score_answers(spec, after).final
    assert met(plan.final_after)
    for change in plan.changes:
        assert answers.get(change.item) not in (EXEMPT,)
        assert change.gain == spec.points[change.to_status] - spec.points[change.from_status] > 0


@settings(max_examples=200, deadline=None, derandomize=True)
@given(rubrics_and_audits())
def test_only_sections_below_the_target_are_changed(case):
    spec, answers, evidence, target = case
    plan = next_steps(spec, answers, target, evidence)
    result = score_answers(spec, answers)
    for change in plan.changes:
        section = result.section(change.section)
        if plan.target is not None:
            assert section.score <= plan.target if plan.exclusive else section.score < plan.target
