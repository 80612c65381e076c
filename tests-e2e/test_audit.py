"""The audit log of a running platform: a trade desk's whole flow, every event of every service
(saga commands and replies included) in the tenant's hash chain, verified through the gateway;
a partner downloads its export and the keys with its API key and verifies them offline, as the
README shows, learning nothing of the other party's own records."""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import trading
from partner_clients import api_key_client

from mandi_audit.entrypoints.consumers import AUDITED_TOPICS
from mandi_testing.kafka import end_offsets, read_topic_since
from mandi_testing.platform import RunningPlatform

desk = trading.desk
market = trading.market


@pytest.fixture(scope="module")
def since(platform: RunningPlatform) -> dict[str, dict[int, int]]:
    """Where each audited topic ended when the module began (before its desk's tenant)."""
    bootstrap = platform.auth.environment["MANDI_AUTH_KAFKA_BOOTSTRAP_SERVERS"]
    return {topic: asyncio.run(end_offsets(bootstrap, topic)) for topic in AUDITED_TOPICS}


def _events_since(platform: RunningPlatform, since: dict[str, dict[int, int]]) -> dict[str, str]:
    """The ids of the events published since, with their tenant (events of every tenant)."""
    bootstrap = platform.auth.environment["MANDI_AUTH_KAFKA_BOOTSTRAP_SERVERS"]
    found: dict[str, str] = {}
    for topic, offsets in since.items():
        for record in asyncio.run(read_topic_since(bootstrap, topic, offsets)):
            headers = {name: value.decode() for name, value in record.headers}
            if "ce_id" in headers:
                found[headers["ce_id"]] = headers.get("ce_tenantid", "")
    return found


async def _recorded(platform: RunningPlatform, tenant: str, event_ids: list[str]) -> set[str]:
    audit = platform.audit
    assert audit is not None
    connection = await asyncpg.connect(
        audit.environment["MANDI_AUDIT_MIGRATION_DATABASE_URL"],
        password=audit.environment["MANDI_AUDIT_MIGRATION_DATABASE_PASSWORD"],
    )
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
            rows = await connection.fetch(
                "SELECT event_id FROM audit_records WHERE event_id = ANY($1::text[])", event_ids
            )
    finally:
        await connection.close()
    return {row["event_id"] for row in rows}


def _me(desk: trading.Desk) -> str:
    return str(trading.ok(desk.staff.get("/api/v1/auth/me"))["tenant_id"])


def test_every_event_of_a_trade_lands_in_the_chain_which_verifies_and_exports(
    platform: RunningPlatform,
    since: dict[str, dict[int, int]],
    market: trading.Market,
    tmp_path: Path,
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    buyer = market.buyer()
    trade, _lot = trading.traded(market, buyer)
    tenant = _me(market.desk)

    published = {
        event_id for event_id, named in _events_since(platform, since).items() if named == tenant
    }
    assert len(published) > 10
    recorded = trading.until(
        "every event in the audit log",
        lambda: asyncio.run(_recorded(platform, tenant, sorted(published))),
        lambda found: found == published,
        timeout=30,
    )
    assert recorded == published

    verification = trading.ok(market.desk.staff.get("/api/v1/audit/verification"))
    assert verification["intact"] is True, verification
    assert verification["checked"] >= len(published)

    mine = trading.ok(
        market.desk.staff.get("/api/v1/audit/records", params={"aggregate": trade["id"]})
    )
    assert {record["aggregate"] for record in mine} == {trade["id"]}

    _export_verifies_offline(platform, market, buyer, started, tmp_path)


def _export_verifies_offline(
    platform: RunningPlatform,
    market: trading.Market,
    buyer: trading.Party,
    started: datetime,
    folder: Path,
) -> None:
    partner = api_key_client(platform, market.desk.staff, buyer.id, ["audit:read"])
    with partner:
        ended = datetime.now(UTC) + timedelta(seconds=1)
        window = {"from": started.isoformat(), "to": ended.isoformat()}
        exported = partner.get("/api/v1/audit/exports", params=window)
        assert exported.status_code == 200, exported.text
        keys = trading.ok(partner.get("/api/v1/audit/.well-known/jwks.json"))
        own = trading.ok(partner.get("/api/v1/audit/records", params={"limit": 500}))
    export, key_file = folder / "export.jsonl", folder / "keys.json"
    export.write_bytes(exported.content)
    key_file.write_text(json.dumps(keys))

    verified = _verify(export, key_file)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("verified")

    assert own
    assert all(uuid.UUID(buyer.id) in map(uuid.UUID, r["parties"]) for r in own)
    text = exported.content.decode()
    assert all(record["event_id"] in text for record in own if started <= _when(record))
    others = trading.ok(market.desk.staff.get("/api/v1/audit/records", params={"limit": 500}))
    strangers = [r for r in others if buyer.id not in r["parties"] and started <= _when(r)]
    assert strangers, "the export's range holds records of others"
    assert not any(record["event_id"] in text for record in strangers)

    changed = bytearray(exported.content)
    changed[len(changed) // 2] ^= 0x01
    export.write_bytes(bytes(changed))
    refused = _verify(export, key_file)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stdout.startswith("NOT verified")


def _when(record: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(record["occurred_at"]))


def _verify(export: Path, keys: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mandi_audit", "verify", str(export), "--keys", str(keys)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def test_the_journal_reads_every_topic_the_platform_publishes_or_consumes() -> None:
    services = [
        line.split()[0]
        for line in (Path(__file__).parents[1] / "deploy/local/services.txt")
        .read_text()
        .splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("audit")
    ]
    topics: set[str] = set()
    for name in services:
        definition = importlib.import_module(f"mandi_{name}.entrypoints.service").DEFINITION
        topics |= {definition.topic} if definition.topic else set()
        topics |= {topic for group in definition.consumers for topic in group.topics}

    assert len(services) >= 6
    assert topics - set(AUDITED_TOPICS) == set()
