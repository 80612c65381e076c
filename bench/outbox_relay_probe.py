"""A relay in a process of its own, noting when Kafka acknowledged each event (bench/outbox.py).

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

from mandi_messaging import OutboxRelay, OutgoingMessage, create_producer


async def main(dsn: str, bootstrap: str, output: str, expected: int) -> None:
    """Relays until `expected` events were acknowledged (or two minutes passed)."""
    acknowledged: dict[str, float] = {}

    def record(messages: Sequence[OutgoingMessage]) -> None:
        now = time.time()
        for message in messages:
            acknowledged[dict(message.headers)["ce_id"].decode()] = now

    producer = create_producer(bootstrap, client_id="bench-outbox-probe")
    await producer.start()
    relay = OutboxRelay(dsn=dsn, producer=producer, service="bench-probe", on_acknowledged=record)
    task = asyncio.create_task(relay.run())
    print("ready", flush=True)
    deadline = time.monotonic() + 120
    while len(acknowledged) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    relay.stop()
    await task
    await producer.stop()
    await asyncio.to_thread(Path(output).write_text, json.dumps(acknowledged))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
