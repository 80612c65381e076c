"""Business rules more than one service applies, on data each holds: plain Python, no framework.

Exact money (`Money`, in a currency's minor units) is availability's for prices and risk's for
credit limits and exposure.

The insider-trading rule is the partners service's, which decides it on its own data; risk
applies the same rule to its read model of partners, built from partners' events.
"""

from mandi_rules.insider_trading import InsiderLinks, TradeBlock, trade_block
from mandi_rules.money import AMOUNT_PLACES, Currency, Money, exact_decimal

__all__ = [
    "AMOUNT_PLACES",
    "Currency",
    "InsiderLinks",
    "Money",
    "TradeBlock",
    "exact_decimal",
    "trade_block",
]
