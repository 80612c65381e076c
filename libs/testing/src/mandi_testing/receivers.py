"""A real HTTP receiver on 127.0.0.1 for webhook tests, benchmarks and demos.

It speaks enough HTTP/1.1 (keep-alive, Content-Length bodies) to be what a partner's endpoint
is to the dispatcher, records each request with the moment it arrived, and answers as its
`answer` function says: a status, headers, and optionally a stall before answering (a dead
endpoint that accepts connections and never replies in time).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

__all__ = [
    "Answer",
    "LocalReceiver",
    "ReceivedRequest",
    "local_receiver",
    "receiver_in_thread",
    "wait_until_received",
]


@dataclass(frozen=True)
class Answer:
    """How the receiver answers one request."""

    status: int = 204
    headers: tuple[tuple[str, str], ...] = ()
    stall_seconds: float = 0.0
    body: bytes = b""


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it arrived."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float  # time.perf_counter() when its body had arrived


@dataclass
class LocalReceiver:
    """Records requests; `answer(n)` says how the n-th (from 0) is answered."""

    answer: Callable[[int], Answer] = field(default=lambda _n: Answer())
    received: list[ReceivedRequest] = field(default_factory=list)
    port: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _serving: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        """The receiver's URL (any path is accepted)."""
        return f"http://127.0.0.1:{self.port}/hooks"

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """The first `count` requests, once they have arrived (TimeoutError otherwise)."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.received[:count]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serves one connection, request after request."""
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, headers = _parse_head(head)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                number = len(self.received)
                path = request_line.split(" ")[1] if " " in request_line else "/"
                self.received.append(ReceivedRequest(path, headers, body, time.perf_counter()))
                self._arrived.set()
                await self._respond(writer, self.answer(number))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    @staticmethod
    async def _respond(writer: asyncio.StreamWriter, answer: Answer) -> None:
        if answer.stall_seconds:
            await asyncio.sleep(answer.stall_seconds)
        extra = b"".join(f"{name}: {value}\r\n".encode() for name, value in answer.headers)
        writer.write(
            b"HTTP/1.1 %d Answer\r\n%bContent-Length: %d\r\n\r\n%b"
            % (answer.status, extra, len(answer.body), answer.body)
        )
        await writer.drain()


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, separator, value = line.partition(":")
        if separator:
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


@asynccontextmanager
async def local_receiver(
    answer: Callable[[int], Answer] | None = None,
) -> AsyncIterator[LocalReceiver]:
    """A receiver listening on a free port of 127.0.0.1 until the block ends."""
    receiver = LocalReceiver() if answer is None else LocalReceiver(answer=answer)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0, backlog=1024)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        # A kept-alive or stalled connection must not outlive the block: its handler is
        # cancelled, and closes its socket before the block ends.
        serving = list(receiver._serving)  # noqa: SLF001 - the receiver's own helper
        for task in serving:
            task.cancel()
        await asyncio.gather(*serving, return_exceptions=True)


@contextmanager
def receiver_in_thread(
    answer: Callable[[int], Answer] | None = None,
) -> Iterator[LocalReceiver]:
    """A receiver serving from a thread of its own, for synchronous tests: read `received`
    (or `wait_until_received`) while it runs."""
    ready: queue.Queue[LocalReceiver] = queue.Queue()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        async with local_receiver(answer) as receiver:
            ready.put(receiver)
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        yield ready.get(timeout=10)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()


def wait_until_received(
    receiver: LocalReceiver, count: int, timeout: float = 20.0
) -> list[ReceivedRequest]:
    """The first `count` requests of a receiver in a thread, once they have arrived."""
    deadline = time.monotonic() + timeout
    while len(receiver.received) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(receiver.received)} of {count} requests arrived")
        time.sleep(0.05)
    return receiver.received[:count]
