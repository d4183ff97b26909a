"""The rubric file says which items allow not applicable and what an approved exemption is worth."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from rubric.loader import RubricFileError, parse_rubric, save_rubric
from rubric.models import Item, Rubric
from rubric.selectors import rubric_spec
from tests.test_rubric_loader import BUILTIN


def changed(**top):
    data = copy.deepcopy(BUILTIN)
    data.update(slug="exemption-rules", version="1")
    data.update(top)
    return data


def refusal(data) -> str:
    with pytest.raises(RubricFileError) as error:
        parse_rubric(data)
    return str(error.value)


def test_a_rubric_file_without_exemption_keys_still_loads_and_exemptions_are_worth_the_top_points(db):
    rubric, outcome = save_rubric(parse_rubric(changed()))
    assert outcome == "created"
    assert rubric.exemption_points is None
    assert rubric.effective_exemption_points == Decimal(1)
    assert rubric_spec(rubric).points_per_exemption == Decimal(1)
    assert not Item.objects.filter(rubric=rubric, allows_not_applicable=False).exists()


def test_the_built_in_rubric_allows_not_applicable_everywhere(rubric):
    assert rubric.items.filter(allows_not_applicable=True).count() == 28


def test_items_may_disallow_not_applicable_and_the_rubric_may_set_exemption_points(db):
    data = changed(exemption_points=0.5)
    data["sections"][0]["items"][0]["allows_not_applicable"] = False
    rubric, _outcome = save_rubric(parse_rubric(data))
    first = data["sections"][0]["items"][0]["code"]
    assert list(Item.objects.filter(rubric=rubric, allows_not_applicable=False).values_list("code", flat=True)) == [
        first
    ]
    assert Rubric.objects.get(pk=rubric.pk).exemption_points == Decimal("0.5")
    assert rubric_spec(rubric).points_per_exemption == Decimal("0.5")


def test_allows_not_applicable_must_be_true_or_false():
    data = changed()
    data["sections"][1]["items"][2]["allows_not_applicable"] = "no"
    assert "allows_not_applicable must be true or false" in refusal(data)


@pytest.mark.parametrize("value", ["lots", True, [1]])
def test_exemption_points_must_be_a_number(value):
    assert "exemption_points must be a number" in refusal(changed(exemption_points=value))


@pytest.mark.parametrize("value", [-0.5, 1.5])
def test_exemption_points_must_lie_between_not_done_and_the_top_points(value):
    assert "exemption_points must be between the points for not_done and the top points" in refusal(
        changed(exemption_points=value)
    )


def test_exemption_points_have_at_most_two_decimals():
    assert "the rubric: exemption_points must have at most 2 decimals" in refusal(changed(exemption_points=0.333))


def test_points_for_not_applicable_are_refused_with_the_reason():
    data = changed()
    data["points"] = {**data["points"], "not_applicable": 1}
    assert "points must not name 'not_applicable'" in refusal(data)
