"""The load of bench/api.py, in a process of its own so that its CPU is never a service's.

Reads one JSON plan on stdin, sends `count` requests at a steady `rate` (open loop: a request
is sent on time whether or not the ones before it were answered), and prints one JSON line:
the latency of each answer, the statuses, and the CPU seconds each watched process spent from
the first request until `settle_seconds` after the last answer (work a request leaves behind,
such as the outbox relay publishing its event, counts too) and, with `until_settled`, until every
watched process is back to its idle pace: what consumers do because of a request (matching
re-deciding after an offer changed) is the scenario's, not the next one's.

A path may name `{id}`: targets are taken in turn. With `if_match`, a target is a resource
and its version: each request sends `If-Match` with the version last read, takes a target no
other request holds, and keeps the ETag of the answer for the next one. `{n}` in the body is
the request's number, so each write changes something; `{id}` in the body is the target too.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
from benchlib import cpu_seconds, settled

_POOL = httpx.Limits(max_connections=256, max_keepalive_connections=256)


@dataclass
class _Targets:
    """Which resource each request addresses; with versions, one request per resource at once."""

    free: deque[str]
    versions: dict[str, int] = field(default_factory=dict)

    def take(self) -> str | None:
        """The next target, held until `give_back` when versions are tracked."""
        if not self.free:
            return None
        target = self.free.popleft()
        if not self.versions:
            self.free.append(target)  # reads share targets freely
        return target

    def give_back(self, target: str, etag: str | None) -> None:
        """Frees a versioned target, remembering the version its answer named."""
        if not self.versions:
            return
        if etag:
            self.versions[target] = int(etag.strip('W/"'))
        self.free.append(target)


@dataclass
class _Tally:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    unsent: int = 0
    max_lag_ms: float = 0.0

    def count(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def _cpu(pids: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(pid) for pid in group) for name, group in pids.items()}


async def _one(
    client: httpx.AsyncClient, plan: dict[str, Any], number: int, targets: _Targets, tally: _Tally
) -> None:
    target = targets.take()
    if target is None:
        tally.unsent += 1
        return
    headers = dict(plan["headers"])
    if targets.versions:
        headers["if-match"] = f'"{targets.versions[target]}"'
    body = plan.get("body")
    content = body.replace("{n}", str(number)).replace("{id}", target).encode() if body else None
    if content:
        headers["content-type"] = "application/json"
    started = time.perf_counter()
    etag = None
    try:
        answer = await client.request(
            plan["method"], plan["path"].replace("{id}", target), headers=headers, content=content
        )
        etag = answer.headers.get("etag")
        tally.count(str(answer.status_code))
    except httpx.HTTPError as error:
        tally.count(type(error).__name__)
    finally:
        targets.give_back(target, etag)
    tally.latencies_ms.append((time.perf_counter() - started) * 1000)


async def _drive(plan: dict[str, Any]) -> dict[str, Any]:
    versions = {key: int(value) for key, value in (plan.get("versions") or {}).items()}
    targets = _Targets(deque(plan.get("targets") or versions or [""]), versions)
    tally = _Tally()
    pids = plan.get("pids", {})
    async with httpx.AsyncClient(base_url=plan["base_url"], limits=_POOL, timeout=30) as client:
        loop = asyncio.get_running_loop()
        cpu_before, begun = _cpu(pids), time.perf_counter()
        start, interval = loop.time(), 1 / plan["rate"]
        sending = []
        for number in range(plan["count"]):
            due = start + number * interval
            await asyncio.sleep(max(0.0, due - loop.time()))
            tally.max_lag_ms = max(tally.max_lag_ms, (loop.time() - due) * 1000)
            sending.append(asyncio.create_task(_one(client, plan, number, targets, tally)))
        await asyncio.gather(*sending)
        await asyncio.sleep(plan.get("settle_seconds", 0.0))
        if plan.get("until_settled"):
            await settled(pids)
        cpu_after, window = _cpu(pids), time.perf_counter() - begun
    return {
        "latencies_ms": tally.latencies_ms,
        "statuses": tally.statuses,
        "unsent": tally.unsent,
        "max_lag_ms": round(tally.max_lag_ms, 2),
        "window_s": window,
        "cpu_s": {name: cpu_after[name] - cpu_before[name] for name in pids},
        "versions": targets.versions,
    }


def main() -> None:
    """Runs the plan read from stdin; prints the outcome as one JSON line."""
    plan = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(_drive(plan))))


if __name__ == "__main__":
    main()
