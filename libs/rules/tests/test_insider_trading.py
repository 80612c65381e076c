"""Partners tied by a group, a director or a contact may not trade with each other."""

from __future__ import annotations

from uuid import uuid4

from mandi_rules import InsiderLinks, trade_block


def _links(group=None, directors=(), contacts=()):
    return InsiderLinks(uuid4(), group, frozenset(directors), frozenset(contacts))


def test_unrelated_partners_may_trade():
    assert trade_block(_links(uuid4(), {"d1"}, {"c1"}), _links(uuid4(), {"d2"}, {"c2"})) is None


def test_a_partner_never_trades_with_itself():
    partner = _links()
    assert trade_block(partner, partner).reason == "same_partner"


def test_partners_of_one_group_may_not_trade():
    group = uuid4()
    assert trade_block(_links(group), _links(group)).reason == "same_group"


def test_a_shared_director_blocks_trading():
    assert (
        trade_block(_links(directors={"d1"}), _links(directors={"d1"})).reason == "shared_director"
    )


def test_a_shared_contact_blocks_trading_in_either_role():
    assert trade_block(_links(contacts={"c1"}), _links(contacts={"c1"})).reason == "shared_contact"
    assert trade_block(_links(directors={"p"}), _links(contacts={"p"})).reason == "shared_contact"


def test_the_rule_is_symmetric():
    first, second = _links(directors={"p"}), _links(contacts={"p"})
    assert trade_block(first, second) == trade_block(second, first)
