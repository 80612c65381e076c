"""Exports from the real log: a partner's verifies offline and holds no one else's record in
full; an operator's holds the tenant's every record; a range with no record is not found."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest

from mandi_audit.domain.exports import verify_export
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_audit.service_layer.exports import archive_segment, export_for
from mandi_audit.service_layer.verifying import published_keys
from mandi_errors import Conflict, NotFound, PermissionDenied
from mandi_messaging import ReceivedEvent
from mandi_security import Principal, PrincipalType
from mandi_testing.fakes import FakeClock


def _partner(tenant: UUID, partner: UUID) -> Principal:
    return Principal(
        tenant,
        "key:erp",
        PrincipalType.EXTERNAL,
        partner_id=partner,
        scopes=frozenset({"audit:read"}),
    )


@pytest.fixture
async def trading(
    deps: AuditDependencies, event: Callable[..., ReceivedEvent], clock: FakeClock
) -> tuple[UUID, UUID, UUID]:
    """A tenant's log in which two partners each have records, and one record concerns both."""
    tenant, mine, theirs = uuid4(), uuid4(), uuid4()
    moment = clock.now()
    poll = [
        event(
            tenant,
            data={"partner_id": str(mine), "approved_by": "u1", "secret": "mine-1"},
            occurred_at=moment,
        ),
        event(
            tenant,
            data={"partner_id": str(theirs), "approved_by": "u1", "secret": "theirs-1"},
            occurred_at=moment,
        ),
        event(
            tenant,
            data={"buyer_id": str(mine), "seller_id": str(theirs), "secret": "both-1"},
            occurred_at=moment,
        ),
        *(
            event(
                tenant,
                data={"partner_id": str(theirs), "secret": f"theirs-{n}"},
                occurred_at=moment,
            )
            for n in range(2, 14)
        ),
    ]
    assert await deps.journal.write(poll) == []
    return tenant, mine, theirs


async def test_a_partners_export_verifies_offline_and_shows_only_its_own_records(
    deps: AuditDependencies, trading: tuple[UUID, UUID, UUID], clock: FakeClock
) -> None:
    tenant, mine, _ = trading
    window = (clock.now() - timedelta(seconds=1), clock.now() + timedelta(seconds=1))

    exported = await export_for(deps, _partner(tenant, mine), *window)

    check = verify_export(exported, await published_keys(deps))
    assert check.ok, (check.line, check.reason)
    assert (check.own_records, check.other_records) == (2, 13)
    text = exported.decode()
    assert text.count('"event_id"') == 2  # a record of someone else's names no event
    payloads = [
        base64.b64decode(json.loads(line)["record"]["payload"])
        for line in text.splitlines()
        if '"record"' in line
    ]
    assert sorted(json.loads(p)["secret"] for p in payloads) == ["both-1", "mine-1"]


async def test_an_operators_export_holds_every_record_in_full(
    deps: AuditDependencies, trading: tuple[UUID, UUID, UUID], clock: FakeClock
) -> None:
    tenant, _, _ = trading
    operator = Principal(tenant, "ops", PrincipalType.INTERNAL, scopes=frozenset({"*:read"}))
    window = (clock.now() - timedelta(seconds=1), clock.now() + timedelta(seconds=1))

    check = verify_export(await export_for(deps, operator, *window), await published_keys(deps))

    assert check.ok, (check.line, check.reason)
    assert (check.own_records, check.other_records) == (15, 0)


async def test_an_empty_range_and_another_partners_export_are_refused(
    deps: AuditDependencies, trading: tuple[UUID, UUID, UUID], clock: FakeClock
) -> None:
    tenant, mine, theirs = trading
    later = clock.now() + timedelta(days=1)

    with pytest.raises(NotFound):
        await export_for(deps, _partner(tenant, mine), later, later + timedelta(hours=1))
    with pytest.raises(NotFound):
        await export_for(deps, _partner(tenant, mine), clock.now(), clock.now())
    with pytest.raises(PermissionDenied):
        await export_for(deps, _partner(tenant, mine), clock.now(), later, partner_id=theirs)


async def test_a_verified_segment_is_archived_whole_and_verifies_offline(
    deps: AuditDependencies, many: Callable[..., Sequence[ReceivedEvent]]
) -> None:
    tenant = uuid4()
    await deps.journal.write(many(tenant, 13))  # signed at 10

    archived = await archive_segment(deps, tenant, 1, 10)

    check = verify_export(archived, await published_keys(deps))
    assert check.ok, (check.line, check.reason)
    assert (check.own_records, check.other_records, check.checkpoint_seq) == (10, 0, 10)
    with pytest.raises(NotFound):  # 11..13 are not signed yet: no whole segment ends there
        await archive_segment(deps, tenant, 11, 13)


async def test_a_segment_that_does_not_verify_is_not_archived(
    deps: AuditDependencies,
    many: Callable[..., Sequence[ReceivedEvent]],
    superuser: asyncpg.Connection,
) -> None:
    tenant = uuid4()
    await deps.journal.write(many(tenant, 10))
    async with superuser.transaction():
        await superuser.execute("ALTER TABLE audit_records DISABLE TRIGGER USER")
        await superuser.execute(
            "UPDATE audit_records SET payload = '{}' WHERE tenant_id = $1 AND seq = 4", tenant
        )
        await superuser.execute("ALTER TABLE audit_records ENABLE TRIGGER USER")

    with pytest.raises(Conflict, match="seq 4"):
        await archive_segment(deps, tenant, 1, 10)
