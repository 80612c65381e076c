"""Business rules more than one service applies, on data each holds: plain Python, no framework.

The insider-trading rule is the partners service's, which decides it on its own data; risk
applies the same rule to its read model of partners, built from partners' events.
"""

from mandi_rules.insider_trading import InsiderLinks, TradeBlock, trade_block

__all__ = ["InsiderLinks", "TradeBlock", "trade_block"]
