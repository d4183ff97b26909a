"""The path to a target score: the cheapest answer changes that reach it, exactly.

Pure functions over plain data (no ORM), beside `rubric.scoring` and under its rules: an item is worth
`spec.points[status]`, a section is the sum of its items, the final score is the minimum of the sections.
Because of that minimum, only sections below the target need work and they need it independently, so the
plan is the union of one optimal plan per section.

Objective, lexicographic, per section (and therefore overall, since each part is a sum over sections):
1. the cheapest steps: each rung of the ladder is a step worth the rubric's points; reaching *manual* from
   below costs 1, *automated* from *manual* costs 2 (automating a test is more work than doing it by hand
   once), so *not done* → *automated* costs 3 and two items done by hand (cost 2) come before one item
   automated from nothing;
2. the fewest answers changed, among equally cheap plans;
3. the most items with evidence that supports a suggestion (`evidence_items`);
4. the earliest items in rubric order (so the plan is deterministic).

Only the three ladder statuses are changed. Any other status a rubric scores (an approved exemption, for
instance) is fixed: never changed, scored as given. Reaching a band means a final score above its lower
bound (bands are (lower, upper] intervals); reaching a score means a final score at least that score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rubric.scoring import BandSpec, RubricSpec, band_for, points_for, score_answers
from rubric.statuses import LADDER, NOT_DONE

_RANK = {status: rank for rank, status in enumerate(LADDER)}


class UnknownBandError(ValueError):
    """A target named a band the rubric does not have."""


@dataclass(frozen=True)
class Target:
    """What a plan aims at: a final score >= `score`, or > `score` when `exclusive` (a band's lower bound).

    `score` None means every final score reaches it (a band with no lower bound)."""

    score: Decimal | None
    exclusive: bool = False
    band: BandSpec | None = None

    def met_by(self, value: Decimal) -> bool:
        if self.score is None:
            return True
        return value > self.score if self.exclusive else value >= self.score


@dataclass(frozen=True)
class Change:
    item: str
    section: str
    from_status: str
    to_status: str
    gain: Decimal
    cost: int


@dataclass(frozen=True)
class Plan:
    current: Decimal
    target: Decimal | None
    reachable: bool
    changes: tuple[Change, ...]
    final_after: Decimal
    band: BandSpec | None = None  # the band aimed at, when the target is a band
    exclusive: bool = False  # True when reaching the target means a final score above `target`

    @property
    def cost(self) -> int:
        return sum(change.cost for change in self.changes)

    def changes_by_section(self) -> dict[str, list[Change]]:
        grouped: dict[str, list[Change]] = {}
        for change in self.changes:
            grouped.setdefault(change.section, []).append(change)
        return grouped


def step_cost(from_status: str, to_status: str) -> int:
    """The cost of moving one answer up the ladder: each rung costs its rank (manual 1, automated 2)."""
    return sum(range(_RANK[from_status] + 1, _RANK[to_status] + 1))


def next_band(spec: RubricSpec, final: Decimal) -> BandSpec | None:
    """The lowest band above a final score (its lower bound is at or above the score); None at the top."""
    above = [band for band in spec.bands if band.lower is not None and band.lower >= final]
    return min(above, key=lambda band: band.lower or Decimal(0), default=None)


def band_by_label(spec: RubricSpec, label: str) -> BandSpec:
    wanted = label.strip().casefold()
    for band in spec.bands:
        if band.label.casefold() == wanted:
            return band
    raise UnknownBandError(f"Unknown band {label!r}.")


def parse_target(spec: RubricSpec, text: str) -> Decimal | BandSpec:
    """A target as people write it: a score ("2", "2.5") or a band label ("Reasonably tested")."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return band_by_label(spec, text)
    if not number.is_finite():
        raise UnknownBandError(f"Unknown band {text!r}.")
    return number


def resolve_target(spec: RubricSpec, target: Decimal | int | str | BandSpec | None, final: Decimal) -> Target:
    """The target as a threshold; None means the next band above `final` (or the current band at the top)."""
    if target is None:
        band = next_band(spec, final) or band_for(spec.bands, final)
        if band is None:
            return Target(score=final)
        return Target(score=band.lower, exclusive=band.lower is not None, band=band)
    if isinstance(target, str):
        target = band_by_label(spec, target)
    if isinstance(target, BandSpec):
        return Target(score=target.lower, exclusive=target.lower is not None, band=target)
    return Target(score=Decimal(target))


# A partial plan for one section: (cost, -evidence items, ((item index, to status), ...)).
_Best = tuple[int, int, tuple[tuple[int, str], ...]]


def _section_plan(
    spec: RubricSpec,
    codes: Sequence[str],
    base: Decimal,
    answers: Mapping[str, str | None],
    goal: Target,
    evidence: frozenset[str],
) -> list[tuple[int, str]] | None:
    """The optimal changes in one section (indices into `codes`), None when no changes can reach the goal.

    A dynamic programme over the items in order; the state is (changes so far, points gained so far, with
    every gain that meets the goal merged into one "done" state). Each state keeps its best partial plan
    by (cost, -evidence, indices): all three are additive or same-length, so the best prefix extends to
    the best plan."""
    statuses = [answers.get(code) or NOT_DONE for code in codes]
    if goal.met_by(base):
        return []
    done = "done"
    states: dict[tuple[int, Decimal | str], _Best] = {(0, Decimal(0)): (0, 0, ())}
    for index, (code, status) in enumerate(zip(codes, statuses, strict=True)):
        if status not in _RANK:
            continue  # fixed: another kind of answer (an exemption) is never changed
        current = points_for(spec, status)
        options = []
        for to_status in LADDER[_RANK[status] + 1 :]:
            if to_status in spec.points and spec.points[to_status] > current:
                options.append((to_status, spec.points[to_status] - current, step_cost(status, to_status)))
        if not options:
            continue
        bonus = 1 if code in evidence else 0
        grown = dict(states)
        for (count, gained), (cost, neg_evidence, chosen) in states.items():
            if gained == done:
                continue  # a met section needs no more changes; any extension is worse
            assert isinstance(gained, Decimal)
            for to_status, gain, price in options:
                total = gained + gain
                key = (count + 1, done if goal.met_by(base + total) else total)
                candidate = (cost + price, neg_evidence - bonus, (*chosen, (index, to_status)))
                if key not in grown or candidate < grown[key]:
                    grown[key] = candidate
        states = grown
    finished = [(count, best) for (count, gained), best in states.items() if gained == done]
    if not finished:
        return None
    # Cheapest first, then fewest changes: each (count, done) state already holds its best plan by cost.
    _cost, _count, _neg, chosen = min((cost, count, neg, chosen) for count, (cost, neg, chosen) in finished)
    return list(chosen)


def next_steps(
    spec: RubricSpec,
    answers: Mapping[str, str | None],
    target: Decimal | int | str | BandSpec | None = None,
    evidence_items: frozenset[str] = frozenset(),
) -> Plan:
    """The cheapest, then fewest, answer changes that bring the final score to `target` (see the module doc).

    `target`: a score (reached at or above it), a band or its label (reached above its lower bound), or None
    for the next band. An unknown label raises UnknownBandError; a target no answers can reach gives a plan
    with `reachable` False and no changes."""
    result = score_answers(spec, answers)
    current = result.final
    goal = resolve_target(spec, target, current)

    def plan(reachable: bool, changes: Sequence[Change] = (), final_after: Decimal = current) -> Plan:
        return Plan(current, goal.score, reachable, tuple(changes), final_after, goal.band, goal.exclusive)

    if goal.met_by(current):
        return plan(True)
    changes: list[Change] = []
    for section in spec.sections:
        # The section's score as the scoring function gives it, so statuses the planner never changes are
        # scored exactly as they are everywhere else.
        base = result.section(section.key).score
        chosen = _section_plan(spec, section.item_codes, base, answers, goal, evidence_items)
        if chosen is None:
            return plan(False)
        for index, to_status in chosen:
            code = section.item_codes[index]
            from_status = answers.get(code) or NOT_DONE
            changes.append(
                Change(
                    item=code,
                    section=section.key,
                    from_status=from_status,
                    to_status=to_status,
                    gain=points_for(spec, to_status) - points_for(spec, from_status),
                    cost=step_cost(from_status, to_status),
                )
            )
    return plan(True, changes, score_answers(spec, apply_changes(answers, changes)).final)


def apply_changes(answers: Mapping[str, str | None], changes: Sequence[Change]) -> dict[str, str | None]:
    after = dict(answers)
    after.update({change.item: change.to_status for change in changes})
    return after
