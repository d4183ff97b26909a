"""A campaign's target, read against its rubric: a band label or a minimum final score.

Pure (no ORM): parsing what people type, the rubric's reachable maximum, and the one "meets the target"
rule every page, the API, the burn-up and the reminders use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from audits.formatting import plain
from rubric.scoring import BandSpec, RubricSpec


def max_final(spec: RubricSpec) -> Decimal:
    """The best final score the rubric allows: the smallest section's maximum (final = minimum of sections)."""
    return min((spec.max_points_per_item * len(section.item_codes) for section in spec.sections), default=Decimal(0))


def score_step(spec: RubricSpec) -> Decimal:
    """The spacing of the final scores the rubric can produce (0.5 for points 0 / 0.5 / 1)."""
    fractions = [Fraction(str(value)) for value in spec.points.values() if value]
    if not fractions:
        return Decimal(1)
    denominator = math.lcm(*(f.denominator for f in fractions))
    numerator = math.gcd(*(int(f * denominator) for f in fractions))
    return Decimal(numerator) / Decimal(denominator)


@dataclass(frozen=True)
class Target:
    band: BandSpec | None
    score: Decimal | None

    @property
    def label(self) -> str:
        return self.band.label if self.band is not None else plain(self.score)

    @property
    def api_value(self) -> str:
        """How the API writes the target: the band label, or the score as people write it."""
        return self.label

    @property
    def for_planner(self) -> Decimal | BandSpec:
        """The target as rubric.planning.next_steps reads it (the same rule as `met`)."""
        return self.band if self.band is not None else self.score  # type: ignore[return-value]

    def met(self, final: Decimal | None) -> bool:
        """A band is met by a final score above its lower bound (bands are (lower, upper]); a score at or above it."""
        if final is None:
            return False
        if self.band is not None:
            return self.band.lower is None or final > self.band.lower
        return self.score is not None and final >= self.score


def band_minimum(spec: RubricSpec, band: BandSpec) -> Decimal:
    """The lowest final score inside the band (bands are (lower, upper]) that the rubric can produce."""
    if band.lower is None:
        return Decimal(0)
    step = score_step(spec)
    return (band.lower // step) * step + step


def target_of(spec: RubricSpec, *, band_label: str, score: Decimal | None) -> Target:
    """The stored target (a band label or a score) of a campaign on its rubric."""
    if score is not None:
        return Target(band=None, score=score)
    band = next((b for b in spec.bands if b.label == band_label), None)
    if band is None:  # the rubric lost the band since (never: rubric versions are immutable); nothing meets it
        band = BandSpec(lower=max_final(spec), upper=None, label=band_label)
    return Target(band=band, score=None)


def parse_target(spec: RubricSpec, text: object) -> tuple[str, Decimal | None]:
    """(band label, score) from a band label (any case) or a score; a ValidationError naming `target` otherwise."""
    value = str(text if text is not None else "").strip()
    if not value:
        raise ValidationError({"target": [_("Give a band label or a minimum final score.")]})
    try:
        number = Decimal(value.replace(",", "."))
    except InvalidOperation:
        number = None
    if number is not None and number.is_finite():
        highest = max_final(spec)
        if number < 0:
            raise ValidationError({"target": [_("A target score cannot be negative.")]})
        if number > highest:
            raise ValidationError(
                {"target": [_("This rubric's final score is at most %(max)s.") % {"max": plain(highest)}]}
            )
        if number != number.quantize(Decimal("0.01")):
            raise ValidationError({"target": [_("Give the score with at most two decimals.")]})
        return "", number.normalize() if number == number.to_integral() else number
    band = next((b for b in spec.bands if b.label.casefold() == value.casefold()), None)
    if band is None:
        known = ", ".join(b.label for b in spec.bands)
        raise ValidationError(
            {
                "target": [
                    _("No band is called “%(value)s”; the bands are: %(known)s.") % {"value": value, "known": known}
                ]
            }
        )
    if band_minimum(spec, band) > max_final(spec):
        raise ValidationError({"target": [_("No audit on this rubric can reach this band.")]})
    return band.label, None
