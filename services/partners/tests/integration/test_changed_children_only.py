"""A change writes only what changed: the partner's row always, a child table only when its rows
differ from those read, and the insider links from the partner in hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import event

from mandi_partners.config import Settings
from mandi_partners.domain.partner import Contact, PartnerChanges
from mandi_partners.entrypoints.service import DEFINITION, PartnersRunning
from mandi_partners.service_layer import partners
from mandi_runtime import running
from mandi_security import Principal, PrincipalType

pytestmark = pytest.mark.integration


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[PartnersRunning]:
    async with running(DEFINITION, settings, background=False) as started:
        yield started


def _statements(service: PartnersRunning) -> list[str]:
    """Every statement from now on: SQLAlchemy's, and the prepared queries run on the driver."""
    seen: list[str] = []

    def record(statement: str) -> None:
        seen.append(" ".join(statement.split()))

    def on_cursor(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        record(statement)

    def on_query(logged: Any) -> None:
        record(logged.query)

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(on_query)  # once per connection

    engine = service.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_cursor)
    event.listen(engine, "checkout", on_checkout)
    return seen


def _written_tables(statements: list[str]) -> set[str]:
    verbs = ("INSERT INTO ", "DELETE FROM ", "UPDATE ")
    return {
        statement.split(verb, 1)[1].split()[0]
        for statement in statements
        for verb in verbs
        if statement.startswith(verb)
    }


async def test_a_trade_name_change_writes_the_partner_row_and_its_event_only(
    service: PartnersRunning, new_registration
) -> None:
    staff = Principal(uuid4(), "reviewer-1", PrincipalType.INTERNAL, None, frozenset({"*"}))
    registered = await partners.register(service.deps, staff, new_registration())
    statements = _statements(service)

    amended = await partners.amend(
        service.deps,
        staff,
        registered.view.id,
        PartnerChanges(trade_name="Acme Grains"),
        if_match=registered.view.version,
    )

    assert amended.view.trade_name == "Acme Grains"
    assert _written_tables(statements) == {"partners", "outbox"}
    shown = await partners.get_partner(service.deps, staff, registered.view.id)
    assert shown.contacts == registered.view.contacts
    assert shown.tax_ids == registered.view.tax_ids


async def test_new_contacts_rewrite_the_contacts_and_no_other_child_table(
    service: PartnersRunning, new_registration
) -> None:
    staff = Principal(uuid4(), "reviewer-1", PrincipalType.INTERNAL, None, frozenset({"*"}))
    registered = await partners.register(service.deps, staff, new_registration())
    statements = _statements(service)
    director = Contact("Ravi Kumar", email="ravi@acme.example", is_director=True)

    amended = await partners.amend(
        service.deps,
        staff,
        registered.view.id,
        PartnerChanges(contacts=(director,)),
        if_match=registered.view.version,
    )

    assert _written_tables(statements) == {"partners", "partner_contacts", "outbox"}
    assert [contact.name for contact in amended.view.contacts] == ["Ravi Kumar"]
    shown = await partners.get_partner(service.deps, staff, registered.view.id)
    assert [contact.email for contact in shown.contacts] == ["ravi@acme.example"]
    assert shown.tax_ids == registered.view.tax_ids
