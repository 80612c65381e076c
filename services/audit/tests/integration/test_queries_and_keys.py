"""Queries a page at a time, partners' view of them; key rotation; the background round."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg

from mandi_audit.config import Settings
from mandi_audit.domain.checkpoints import CheckpointSigner
from mandi_audit.service_layer.checkpoints import key_set, publish_keys, sign_due
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_audit.service_layer.ports import RecordFilter
from mandi_audit.service_layer.records import find_records
from mandi_audit.service_layer.verification import verify_chain
from mandi_audit.service_layer.verifying import published_keys, verify_round
from mandi_messaging import ReceivedEvent
from mandi_security import Principal, PrincipalType, keyring_from_setting
from mandi_testing.fakes import FakeClock


def _operator(tenant: UUID) -> Principal:
    return Principal(tenant, "ops", PrincipalType.INTERNAL, scopes=frozenset({"*:read"}))


async def test_records_come_a_page_at_a_time_in_chain_order(
    deps: AuditDependencies, many: Callable[..., Sequence[ReceivedEvent]]
) -> None:
    tenant = uuid4()
    await deps.journal.write([*many(tenant, 5, subject="lot-1"), *many(tenant, 3, subject="lot-2")])
    wanted, seen, after = RecordFilter(aggregate="lot-1"), [], 0

    while True:
        page, after_next = await find_records(deps, _operator(tenant), wanted, after, 2)
        seen += [record.seq for record in page]
        if after_next is None:
            break
        after = after_next

    assert seen == [1, 2, 3, 4, 5]


async def test_a_partners_staff_see_only_the_records_that_concern_their_partner(
    deps: AuditDependencies, event: Callable[..., ReceivedEvent]
) -> None:
    tenant, mine, theirs = uuid4(), uuid4(), uuid4()
    await deps.journal.write(
        [
            event(tenant, data={"partner_id": str(mine), "approved_by": "u1"}),
            event(tenant, data={"partner_id": str(theirs), "approved_by": "u1"}),
        ]
    )
    staff = Principal(
        tenant, "key:erp", PrincipalType.EXTERNAL, partner_id=mine, scopes=frozenset({"audit:read"})
    )

    page, _ = await find_records(deps, staff, RecordFilter(actor="u1"), 0, 10)

    assert [record.parties for record in page] == [[mine]]


async def test_a_rotated_key_signs_from_then_on_and_the_old_one_stays_published(
    deps: AuditDependencies,
    settings: Settings,
    many: Callable[..., Sequence[ReceivedEvent]],
    clock: FakeClock,
) -> None:
    tenant = uuid4()
    await deps.journal.write(many(tenant, 10))  # signed at 10 with the first key
    assert settings.checkpoint_keys is not None
    keyring = keyring_from_setting(settings.checkpoint_keys.get_secret_value())
    old = deps.signer.current_key_id
    # A rotation appends a key to the setting: the last listed signs from then on.
    rotated_signer = CheckpointSigner({**keyring, "k-rotated": bytes(range(32))})
    rotated = replace(
        deps, signer=rotated_signer, journal=replace(deps.journal, signer=rotated_signer)
    )
    await publish_keys(rotated)
    await rotated.journal.write(many(tenant, 3))
    clock.advance(timedelta(hours=1))

    await sign_due(rotated)  # the head (13) is due by time: signed with the new key

    published = {key["kid"] for key in (await key_set(rotated))["keys"]}
    assert {old, "k-rotated"} <= published
    report = await verify_chain(rotated.log, await published_keys(rotated), tenant)
    assert report.intact, report.broken
    assert report.checkpoints_verified == 2


async def test_the_background_round_counts_a_broken_chain(
    deps: AuditDependencies,
    many: Callable[..., Sequence[ReceivedEvent]],
    superuser: asyncpg.Connection,
) -> None:
    tenant = uuid4()
    await deps.journal.write(many(tenant, 4))
    async with superuser.transaction():
        await superuser.execute("ALTER TABLE audit_records DISABLE TRIGGER USER")
        await superuser.execute(
            "UPDATE audit_records SET actor = 'someone-else' WHERE tenant_id = $1 AND seq = 3",
            tenant,
        )
        await superuser.execute("ALTER TABLE audit_records ENABLE TRIGGER USER")

    outcome = await verify_round(deps)

    assert (tenant, 3) in {(broken_tenant, link.seq) for broken_tenant, link in outcome.broken}
