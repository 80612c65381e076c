"""Sends one signed delivery over HTTP and says what came of it, never raising for the
receiver's failures: a timeout, a refused connection or a refused address is a result too.

The client is `mandi_webhooks.http.delivery_client`: pooled keep-alive connections, the SSRF
guard at connection time, no redirects followed. The whole attempt, from connecting to the
last byte read, has a deadline; of the answer only the start is read (the attempt log keeps a
short excerpt), and a body longer than that is left unread, closing that connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

import httpx

from mandi_webhook.domain.deliveries import MAX_RESPONSE_EXCERPT, AttemptResult
from mandi_webhooks import EndpointRefused, parse_retry_after

__all__ = ["HttpSender"]

# httpx logs every request at INFO: each attempt is in the attempt log and the metrics already,
# and a line per delivery would cost more than the delivery's own bookkeeping.
logging.getLogger("httpx").setLevel(logging.WARNING)

_HEADERS = {"content-type": "application/json", "user-agent": "Mandi-Webhooks/1"}
_READ_AT_MOST = 64 * 1024  # beyond this, the rest of an answer is not worth the connection


class HttpSender:
    """Delivers over one pooled client."""

    def __init__(self, client: httpx.AsyncClient, *, deadline_seconds: float) -> None:
        self._client, self._deadline = client, deadline_seconds

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> AttemptResult:
        """POSTs the body with its headers; what the receiver answered, or what failed."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._deadline):
                return await self._post(url, {**_HEADERS, **headers}, body, started)
        except TimeoutError:
            return _failed(started, f"no answer within {self._deadline:g} s")
        except EndpointRefused as refused:
            return _failed(started, f"address refused: {refused.detail}")
        except (httpx.HTTPError, OSError) as error:
            return _failed(started, f"{type(error).__name__}: {error}"[:200])

    async def close(self) -> None:
        """Closes the pooled connections."""
        await self._client.aclose()

    async def _post(
        self, url: str, headers: dict[str, str], body: bytes, started: float
    ) -> AttemptResult:
        request = self._client.build_request("POST", url, headers=headers, content=body)
        response = await self._client.send(request, stream=True)
        try:
            excerpt = await _start_of(response)
        finally:
            await response.aclose()
        return AttemptResult(
            status_code=response.status_code,
            latency_ms=(time.perf_counter() - started) * 1000,
            response_excerpt=excerpt.decode("utf-8", "replace")[:MAX_RESPONSE_EXCERPT],
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )


async def _start_of(response: httpx.Response) -> bytes:
    read = bytearray()
    async for chunk in response.aiter_raw():
        read += chunk
        if len(read) >= _READ_AT_MOST:
            break
    return bytes(read)


def _failed(started: float, error: str) -> AttemptResult:
    return AttemptResult(
        status_code=None, latency_ms=(time.perf_counter() - started) * 1000, error=error
    )
