"""The HTTP client deliveries go out with: the SSRF guard again at connection time, no redirects,
a connect timeout and a timeout on each read and write, pooled keep-alive connections. (A
deadline for a whole delivery is the caller's, around the request.)

A URL was checked when its endpoint was registered, but its host may resolve elsewhere by the
time a delivery leaves (DNS rebinding). So the connection itself resolves the host, refuses it
unless every address is allowed, and connects to a checked address: what is checked is what is
connected to, with no second lookup in between. TLS still verifies the certificate against the
URL's host name, since httpcore passes the name, not the address, to the handshake.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import httpcore
import httpx

from mandi_webhooks.ssrf_guard import (
    EndpointRefused,
    Resolver,
    check_connected_address,
    resolve_host,
)

__all__ = ["GuardedNetworkBackend", "delivery_client"]


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses a webhook may reach."""

    def __init__(
        self,
        *,
        resolve: Resolver = resolve_host,
        allow_loopback: bool = False,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._resolve = resolve
        self._allow_loopback = allow_loopback
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolves `host`, refuses it unless every address is allowed, connects to the first."""
        addresses = [host] if _is_address(host) else list(await self._resolve(host))
        if not addresses:
            raise EndpointRefused("The endpoint's host resolves to no address.")
        for address in addresses:
            check_connected_address(address, allow_loopback=self._allow_loopback)
        return await self._inner.connect_tcp(
            addresses[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,  # noqa: ARG002 - httpcore's interface; nothing is opened
        timeout: float | None = None,  # noqa: ARG002, ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,  # noqa: ARG002
    ) -> httpcore.AsyncNetworkStream:
        """Never: a webhook goes to a network address."""
        raise EndpointRefused("A webhook is never delivered to a local socket.")

    async def sleep(self, seconds: float) -> None:
        """Sleeps as the inner backend does (httpcore's retries use it)."""
        await self._inner.sleep(seconds)


def _is_address(host: str) -> bool:
    """Whether the host is an IP address already (nothing to resolve; it is checked as is)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose connections are guarded."""

    def __init__(self, backend: GuardedNetworkBackend, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx takes no network backend, so its pool is rebuilt with ours (the same settings).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


def delivery_client(
    *,
    connect_timeout: float = 2.0,
    timeout: float = 10.0,
    allow_loopback: bool = False,
    resolve: Resolver = resolve_host,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncClient:
    """An HTTP client for deliveries: guarded connections, no redirects followed (a 3xx is an
    answer, not a place to go), a connect timeout and `timeout` on each read and write,
    keep-alive connections pooled."""
    pool = limits or httpx.Limits(max_connections=200, max_keepalive_connections=100)
    backend = GuardedNetworkBackend(resolve=resolve, allow_loopback=allow_loopback)
    return httpx.AsyncClient(
        transport=_GuardedTransport(backend, pool),
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        follow_redirects=False,
        trust_env=False,
    )
