"""Who may not trade with whom: partners of one group, or sharing a director or a contact.

Contacts are compared by the blind indexes of their email and phone (the domain never needs the
clear values), so the rule works on what the database holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

__all__ = ["InsiderLinks", "TradeBlock", "trade_block"]


@dataclass(frozen=True)
class InsiderLinks:
    """What ties a partner to others: its group and the fingerprints of its people."""

    partner_id: UUID
    group_id: UUID | None
    director_fingerprints: frozenset[str]
    contact_fingerprints: frozenset[str]


@dataclass(frozen=True)
class TradeBlock:
    """Why two partners may not trade with each other."""

    reason: str  # "same_partner", "same_group", "shared_director", "shared_contact"


def trade_block(first: InsiderLinks, second: InsiderLinks) -> TradeBlock | None:
    """The reason two partners may not trade, or None when nothing ties them."""
    if first.partner_id == second.partner_id:
        return TradeBlock("same_partner")
    if first.group_id is not None and first.group_id == second.group_id:
        return TradeBlock("same_group")
    if first.director_fingerprints & second.director_fingerprints:
        return TradeBlock("shared_director")
    people = first.director_fingerprints | first.contact_fingerprints
    if people & (second.director_fingerprints | second.contact_fingerprints):
        return TradeBlock("shared_contact")
    return None
