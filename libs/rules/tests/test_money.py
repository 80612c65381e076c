"""Money is exact, in its currency's minor units, and never below zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mandi_errors import InvalidInput
from mandi_rules import Money


def test_money_has_no_more_decimals_than_its_currency() -> None:
    assert Money("INR", Decimal("56000.50")).amount == Decimal("56000.50")
    with pytest.raises(InvalidInput, match="more than 2 decimal places"):
        Money("INR", Decimal("56000.505"))
    with pytest.raises(InvalidInput, match="more than 0 decimal places"):
        Money("JPY", Decimal("100.5"))


def test_money_in_an_unknown_currency_or_below_zero_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Unknown currency 'XYZ'"):
        Money("XYZ", Decimal(1))
    with pytest.raises(InvalidInput, match="negative"):
        Money("INR", Decimal(-1))
