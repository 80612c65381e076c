"""The delivery client against a real HTTP server on 127.0.0.1: the guard refuses before a byte
leaves, the address checked is the one connected to, redirects are answers, and connections
are kept alive between deliveries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from mandi_webhooks import EndpointRefused, RefusedRange
from mandi_webhooks.http import delivery_client


@dataclass
class Receiver:
    """A minimal HTTP/1.1 server: it answers each request with `status` (and a Location to
    elsewhere on a redirect), and counts connections and requests."""

    status: int = 204
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = _content_length(head)
                self.requests.append(head + await reader.readexactly(length))
                location = (
                    b"Location: http://127.0.0.1:9/elsewhere\r\n" if self.status == 302 else b""
                )
                writer.write(
                    b"HTTP/1.1 %d X\r\n%bContent-Length: 0\r\n\r\n" % (self.status, location)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A receiver listening on 127.0.0.1, on a free port."""
    running = Receiver()
    server = await asyncio.start_server(running.handle, "127.0.0.1", 0)
    running.port = server.sockets[0].getsockname()[1]
    async with server:
        yield running


def _resolving_to(*addresses: str) -> object:
    async def resolve(host: str) -> Sequence[str]:
        assert host == "hooks.partner.example"
        return list(addresses)

    return resolve


async def test_a_loopback_receiver_is_refused_before_anything_is_sent(receiver: Receiver) -> None:
    async with delivery_client() as client:
        with pytest.raises(EndpointRefused) as refused:
            await client.post(receiver.url, content=b'{"a": 1}')

    assert refused.value.refused_range is RefusedRange.LOOPBACK
    assert (receiver.connections, receiver.requests) == (0, [])


async def test_the_development_setting_lets_deliveries_reach_a_local_receiver(
    receiver: Receiver,
) -> None:
    async with delivery_client(allow_loopback=True) as client:
        answers = [await client.post(receiver.url, content=b'{"n": %d}' % n) for n in range(3)]

    assert [answer.status_code for answer in answers] == [204] * 3
    assert receiver.requests[0].endswith(b'{"n": 0}')
    assert receiver.connections == 1  # kept alive: one connection for the three


async def test_a_host_resolving_to_a_private_address_now_is_refused_at_connection_time() -> None:
    # Registered while it resolved to a public address; its DNS now points inside.
    resolve = _resolving_to("10.1.2.3")
    async with delivery_client(resolve=resolve) as client:  # type: ignore[arg-type]
        with pytest.raises(EndpointRefused) as refused:
            await client.post("https://hooks.partner.example/hook", content=b"{}")

    assert refused.value.refused_range is RefusedRange.PRIVATE


async def test_one_refused_address_among_the_answers_refuses_the_host() -> None:
    resolve = _resolving_to("93.184.216.34", "169.254.169.254")
    async with delivery_client(resolve=resolve) as client:  # type: ignore[arg-type]
        with pytest.raises(EndpointRefused):
            await client.post("https://hooks.partner.example/hook", content=b"{}")


async def test_the_address_connected_to_is_the_one_checked(receiver: Receiver) -> None:
    # The host resolves to the local receiver: allowed with the development setting, and the
    # connection goes to that very address.
    resolve = _resolving_to("127.0.0.1")
    url = f"http://hooks.partner.example:{receiver.port}/hook"
    async with delivery_client(resolve=resolve, allow_loopback=True) as client:  # type: ignore[arg-type]
        answer = await client.post(url, content=b"{}")

    assert answer.status_code == 204
    assert b"host: hooks.partner.example" in receiver.requests[0].lower()


async def test_a_redirect_is_an_answer_and_is_not_followed(receiver: Receiver) -> None:
    receiver.status = 302
    async with delivery_client(allow_loopback=True) as client:
        answer = await client.post(receiver.url, content=b"{}")

    assert answer.status_code == 302
    assert len(receiver.requests) == 1  # nothing went to the Location
