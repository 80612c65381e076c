"""A host that takes too long to resolve is refused, not waited for."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from mandi_webhook.adapters.dns import bounded
from mandi_webhooks import EndpointRefused, check_endpoint_url


async def _hanging(_host: str) -> Sequence[str]:
    await asyncio.sleep(30)
    return ["93.184.215.14"]


async def _public(_host: str) -> Sequence[str]:
    return ["93.184.215.14"]


async def test_a_host_that_does_not_answer_in_time_does_not_resolve() -> None:
    started = time.monotonic()
    with pytest.raises(EndpointRefused, match="does not resolve"):
        await check_endpoint_url("https://slow.example/hooks", resolve=bounded(_hanging, 0.05))
    assert time.monotonic() - started < 5


async def test_a_host_that_answers_in_time_is_checked_as_usual() -> None:
    addresses = await check_endpoint_url("https://fast.example/", resolve=bounded(_public, 1))
    assert [str(each) for each in addresses] == ["93.184.215.14"]
