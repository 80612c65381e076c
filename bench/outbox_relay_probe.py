"""A relay in a process of its own that records when Kafka acknowledged each event (bench/outbox.py).

Arguments: database URL, Kafka bootstrap, output file, number of events to wait for.
Prints "ready" once its producer is up, writes {event_id: unix time of acknowledgement} at the end.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg
from mandi_messaging import OutboxRelay, create_producer


class AcknowledgementRecordingRelay(OutboxRelay):
    """The production relay, noting the moment each batch was acknowledged."""

    acknowledged: dict[str, float] = {}

    async def _send(self, rows: Sequence[asyncpg.Record]) -> None:
        await super()._send(rows)
        now = time.time()
        for row in rows:
            self.acknowledged[str(row["event_id"])] = now


async def main(dsn: str, bootstrap: str, output: str, expected: int) -> None:
    """Relays until `expected` events were acknowledged (or two minutes passed)."""
    producer = create_producer(bootstrap, client_id="bench-outbox-probe")
    await producer.start()
    relay = AcknowledgementRecordingRelay(dsn=dsn, producer=producer, service="bench-probe")
    task = asyncio.create_task(relay.run())
    print("ready", flush=True)
    deadline = time.monotonic() + 120
    while len(relay.acknowledged) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    task.cancel()
    await producer.stop()
    Path(output).write_text(json.dumps(relay.acknowledged))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
