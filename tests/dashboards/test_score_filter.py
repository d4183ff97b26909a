from decimal import Decimal

import pytest
from django.utils import translation

from audits.formatting import score, signed_score


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


def test_every_interface_writes_scores_with_the_one_formatter():
    from audits.api.exports import plain as export_plain
    from audits.templatetags.audit_tags import score as template_score

    # No trailing zeros and no exponent, in pages and exports alike.
    assert template_score(Decimal("10.00")) == "10" and template_score("2.50") == "2.5"
    assert export_plain(10.0) == "10" and export_plain(None) == ""
