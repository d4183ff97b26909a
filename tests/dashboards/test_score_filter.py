from decimal import Decimal

import pytest
from django.utils import translation

from audits.dashboards.formatting import score, signed_score


@pytest.mark.parametrize(
    ("value", "english", "spanish"),
    [(Decimal("7.0"), "7", "7"), (Decimal("1.50"), "1.5", "1,5"), (3.5, "3.5", "3,5"), (Decimal("0"), "0", "0")],
)
def test_scores_print_without_trailing_zeros_in_the_users_language(value, english, spanish):
    with translation.override("en"):
        assert score(value) == english
    with translation.override("es"):
        assert score(value) == spanish


def test_missing_scores_print_as_nothing():
    assert score(None) == ""


def test_changes_carry_their_sign():
    with translation.override("en"):  # the thread's language is whatever an earlier test's request left
        assert [signed_score(Decimal(v)) for v in ("1.5", "-2", "0")] == ["+1.5", "-2", "0"]
