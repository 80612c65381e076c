"""The journal on the real database: chains appended once, verified, tampering caught."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

import asyncpg
import pytest

from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_audit.service_layer.verification import verify_chain
from mandi_audit.service_layer.verifying import published_keys
from mandi_messaging import ReceivedEvent
from mandi_testing import TestDatabase


async def test_a_poll_is_appended_to_each_tenant_chain_and_verifies(
    deps: AuditDependencies,
    many: Callable[..., Sequence[ReceivedEvent]],
    superuser: asyncpg.Connection,
) -> None:
    first, second = uuid4(), uuid4()
    poll = [*many(first, 25), *many(second, 3), *many(first, 5)]

    assert await deps.journal.write(poll) == []

    report = await verify_chain(deps.log, await published_keys(deps), first)
    assert report.intact, report.broken
    assert (report.checked, report.last_seq) == (30, 30)
    assert report.checkpoints_verified == 3  # one every 10 records
    seqs = await superuser.fetch(
        "SELECT seq FROM audit_records WHERE tenant_id = $1 ORDER BY seq", second
    )
    assert [row["seq"] for row in seqs] == [1, 2, 3]


async def test_a_redelivered_poll_and_a_repeat_within_one_are_appended_once(
    deps: AuditDependencies,
    event: Callable[..., ReceivedEvent],
    superuser: asyncpg.Connection,
) -> None:
    tenant = uuid4()
    poll = [event(tenant), event(tenant), event(tenant)]
    repeated = event(tenant, event_id=poll[1].envelope.id)

    await deps.journal.write([*poll, repeated])
    await deps.journal.write(poll)  # read again after a crash before the commit of offsets

    rows = await superuser.fetch(
        "SELECT seq, event_id FROM audit_records WHERE tenant_id = $1 ORDER BY seq", tenant
    )
    assert [(row["seq"], row["event_id"]) for row in rows] == [
        (seq, one.envelope.id) for seq, one in enumerate(poll, start=1)
    ]


async def test_events_that_can_never_be_recorded_are_handed_back_with_why(
    deps: AuditDependencies, event: Callable[..., ReceivedEvent]
) -> None:
    tenant = uuid4()
    good = event(tenant)
    not_a_tenant = event(None)
    not_a_tenant = type(not_a_tenant)(
        replace(not_a_tenant.envelope, tenant_id="not-a-uuid"), not_a_tenant.record
    )
    with_nul = event(tenant, subject="partner\x00one")
    plain = event(tenant)
    year_one_east = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))  # before UTC's year 1
    before_utc = type(plain)(replace(plain.envelope, time=year_one_east), plain.record)

    rejected = await deps.journal.write([good, not_a_tenant, with_nul, before_utc])

    assert [(r.event, r.reason) for r in rejected] == [
        (not_a_tenant, "the tenant 'not-a-uuid' is not a UUID"),
        (with_nul, "an attribute holds a NUL character, which no text column can store"),
        (before_utc, "ce_time is out of the range a UTC timestamp holds"),
    ]
    report = await verify_chain(deps.log, await published_keys(deps), tenant)
    assert (report.intact, report.checked) == (True, 1)


async def test_an_event_naming_no_tenant_joins_the_platform_chain(
    deps: AuditDependencies, event: Callable[..., ReceivedEvent], superuser: asyncpg.Connection
) -> None:
    orphan = event(None)

    assert await deps.journal.write([orphan]) == []

    tenant = await superuser.fetchval(
        "SELECT tenant_id FROM audit_records WHERE event_id = $1", orphan.envelope.id
    )
    assert tenant == UUID(int=0)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET actor = 'someone-else'",
        "DELETE FROM audit_records",
        "TRUNCATE audit_records",
        "UPDATE audit_checkpoints SET key_id = 'k0'",
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_signing_keys",
    ],
)
async def test_the_application_role_may_not_change_or_remove_the_log(
    database: TestDatabase, statement: str
) -> None:
    connection = await asyncpg.connect(database.app_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET actor = 'someone-else' WHERE tenant_id = $1",
        "DELETE FROM audit_records WHERE tenant_id = $1",
        "UPDATE audit_checkpoints SET key_id = 'k0' WHERE tenant_id = $1",
    ],
)
async def test_even_the_tables_owner_is_refused_by_the_trigger(
    deps: AuditDependencies,
    many: Callable[..., Sequence[ReceivedEvent]],
    database: TestDatabase,
    statement: str,
) -> None:
    tenant = uuid4()
    await deps.journal.write(many(tenant, 10))
    connection = await asyncpg.connect(database.owner_url)
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await connection.execute(statement, tenant)
    finally:
        await connection.close()
