"""Keeping webhooks away from Mandi's own network: the addresses and URLs a delivery may not reach.

An endpoint's URL is checked when it is registered (every address its host resolves to must be
allowed), and the address a delivery actually connected to is checked again, since DNS can
answer differently later. Anything not globally reachable is refused; the ranges below only
give the refusal its name.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from urllib.parse import SplitResult, urlsplit

from mandi_errors import InvalidInput

__all__ = [
    "EndpointRefused",
    "IPAddress",
    "RefusedRange",
    "Resolver",
    "check_connected_address",
    "check_endpoint_url",
    "classify_address",
    "resolve_host",
]

IPAddress = IPv4Address | IPv6Address
# All the addresses a host name resolves to, as text.
Resolver = Callable[[str], Awaitable[Sequence[str]]]


class RefusedRange(StrEnum):
    """Why an address is one a webhook may not reach."""

    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link-local"
    SHARED = "shared (carrier-grade NAT)"
    CLOUD_METADATA = "cloud metadata"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    DOCUMENTATION = "documentation"
    BENCHMARKING = "benchmarking"
    RESERVED = "reserved"
    NOT_GLOBAL = "not globally reachable"


class EndpointRefused(InvalidInput):
    """A webhook URL or address that deliveries may not reach; `detail` says why."""

    type_slug = "webhook-endpoint-refused"
    title = "Webhook endpoint refused"

    def __init__(
        self, detail: str, *, refused_range: RefusedRange | None = None, address: str = ""
    ) -> None:
        super().__init__(detail)
        self.refused_range = refused_range
        # For the logs: a resolved address is not shown to the client, so that registering URLs
        # cannot map Mandi's internal DNS.
        self.address = address


_R = RefusedRange
# Most specific first: a metadata address is also link-local, and is named for what it is.
_IPV4_RANGES: tuple[tuple[IPv4Network, RefusedRange], ...] = tuple(
    (IPv4Network(network), refused)
    for network, refused in (
        ("169.254.169.254/32", _R.CLOUD_METADATA),  # AWS, GCP, Azure, OpenStack
        ("169.254.170.2/32", _R.CLOUD_METADATA),  # AWS ECS task metadata
        ("100.100.100.200/32", _R.CLOUD_METADATA),  # Alibaba Cloud
        ("192.0.0.192/32", _R.CLOUD_METADATA),  # Oracle Cloud
        ("168.63.129.16/32", _R.CLOUD_METADATA),  # Azure's platform endpoint, a public address
        ("0.0.0.0/32", _R.UNSPECIFIED),
        ("0.0.0.0/8", _R.RESERVED),  # "this network": Linux connects 0.x to the local host
        ("127.0.0.0/8", _R.LOOPBACK),
        ("10.0.0.0/8", _R.PRIVATE),
        ("172.16.0.0/12", _R.PRIVATE),
        ("192.168.0.0/16", _R.PRIVATE),
        ("100.64.0.0/10", _R.SHARED),
        ("169.254.0.0/16", _R.LINK_LOCAL),
        ("192.0.0.0/24", _R.RESERVED),
        ("192.0.2.0/24", _R.DOCUMENTATION),
        ("198.51.100.0/24", _R.DOCUMENTATION),
        ("203.0.113.0/24", _R.DOCUMENTATION),
        ("198.18.0.0/15", _R.BENCHMARKING),
        ("192.88.99.0/24", _R.RESERVED),  # the former 6to4 relay anycast
        ("224.0.0.0/4", _R.MULTICAST),
        ("240.0.0.0/4", _R.RESERVED),  # with 255.255.255.255, the broadcast address
    )
)
_IPV6_RANGES: tuple[tuple[IPv6Network, RefusedRange], ...] = tuple(
    (IPv6Network(network), refused)
    for network, refused in (
        ("fd00:ec2::254/128", _R.CLOUD_METADATA),  # AWS over IPv6
        ("::/128", _R.UNSPECIFIED),
        ("::1/128", _R.LOOPBACK),
        ("::/96", _R.RESERVED),  # IPv4-compatible addresses, deprecated
        ("fc00::/7", _R.PRIVATE),  # unique local
        ("fec0::/10", _R.PRIVATE),  # site-local, deprecated
        ("64:ff9b:1::/48", _R.PRIVATE),  # local-use NAT64
        ("fe80::/10", _R.LINK_LOCAL),
        ("ff00::/8", _R.MULTICAST),
        ("2001:db8::/32", _R.DOCUMENTATION),
        ("3fff::/20", _R.DOCUMENTATION),
        ("2001:2::/48", _R.BENCHMARKING),
        ("100::/64", _R.RESERVED),  # discard-only
        ("5f00::/16", _R.RESERVED),  # segment routing identifiers
    )
)
_NAT64 = IPv6Network("64:ff9b::/96")
_LOOPBACK_HOSTS = (IPv4Network("127.0.0.0/8"), IPv6Network("::1/128"))

_ALLOWED_SCHEMES = frozenset({"http", "https"})
# Whitespace, control characters and backslashes: parsers disagree on what they mean.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
_DNS_NAME = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?"
)
# A last label like these makes browsers and resolvers read the whole host as an IPv4 address.
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")


async def resolve_host(host: str) -> list[str]:
    """Every address the system's resolver gives for `host`, without blocking the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def classify_address(address: str | IPAddress) -> RefusedRange | None:
    """Why a webhook may not reach `address`, or None when it is a public address."""
    parsed = ip_address(address) if isinstance(address, str) else address
    if isinstance(parsed, IPv6Address):
        return _classify_ipv6(parsed)
    return _classify_ipv4(parsed)


def check_connected_address(address: str, *, allow_loopback: bool = False) -> IPAddress:
    """The address a delivery connected to, if it may be reached; raises `EndpointRefused`.

    Call it with the peer address of the open connection, before the request is sent:
    the host may resolve differently now than when the endpoint was registered.
    """
    try:
        parsed = ip_address(address)
    except ValueError:
        raise EndpointRefused("The connection's peer is not an IP address.") from None
    refused = _refusal(parsed, allow_loopback=allow_loopback)
    if refused is not None:
        raise EndpointRefused(
            f"The delivery connected to an address webhooks may not reach ({refused}).",
            refused_range=refused,
            address=address,
        )
    return parsed


async def check_endpoint_url(
    url: str,
    *,
    resolve: Resolver = resolve_host,
    allow_loopback: bool = False,
    require_https: bool = True,
) -> tuple[IPAddress, ...]:
    """The addresses of an endpoint URL deliveries may reach; raises `EndpointRefused`.

    Every address the host resolves to must be allowed: one public address beside a private
    one does not make the host safe. `allow_loopback` admits 127.0.0.0/8 and ::1 only (also
    IPv4-mapped, as a dual-stack socket reports them), for receivers on a developer's machine.
    """
    host = _host_of(_parse(url, require_https=require_https))
    literal = _literal_address(host)
    if literal is not None:
        where = f"The endpoint's address {host} is"
        return (_allowed(literal, where=where, allow_loopback=allow_loopback),)
    where = f"The endpoint's host {host} resolves to"
    addresses = await _resolve(_host_name(host), resolve)
    return tuple(_allowed(each, where=where, allow_loopback=allow_loopback) for each in addresses)


def _classify_ipv4(address: IPv4Address) -> RefusedRange | None:
    for network, refused in _IPV4_RANGES:
        if address in network:
            return refused
    return None if address.is_global else RefusedRange.NOT_GLOBAL


def _classify_ipv6(address: IPv6Address) -> RefusedRange | None:
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return _classify_ipv4(embedded)  # a socket to it reaches that IPv4 address
    for network, refused in _IPV6_RANGES:
        if address in network:
            return refused
    tunnelled = None if address.sixtofour is None else _classify_ipv4(address.sixtofour)
    if tunnelled is not None:
        return tunnelled  # 6to4 relays carry it to that IPv4 address
    return None if address.is_global else RefusedRange.NOT_GLOBAL


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def _refusal(address: IPAddress, *, allow_loopback: bool) -> RefusedRange | None:
    refused = classify_address(address)
    if refused is RefusedRange.LOOPBACK and allow_loopback:
        return None
    return refused


def _allowed(address: IPAddress, *, where: str, allow_loopback: bool) -> IPAddress:
    refused = _refusal(address, allow_loopback=allow_loopback)
    if refused is None:
        return address
    raise EndpointRefused(
        f"{where} an address webhooks may not reach ({refused}).",
        refused_range=refused,
        address=str(address),
    )


def _parse(url: str, *, require_https: bool) -> SplitResult:
    if _UNSAFE_CHARACTERS.search(url):
        raise EndpointRefused("The URL holds whitespace, control characters or backslashes.")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a port that is not a number in range
    except ValueError:
        raise EndpointRefused("The URL cannot be parsed.") from None
    scheme = parts.scheme.lower()
    if scheme not in _ALLOWED_SCHEMES:
        raise EndpointRefused("A webhook URL is http or https.")
    if scheme == "http" and require_https:
        raise EndpointRefused("A webhook URL is https.")
    if "@" in parts.netloc:
        raise EndpointRefused("A webhook URL carries no user name or password.")
    return parts


def _host_of(parts: SplitResult) -> str:
    host = parts.hostname
    if not host:
        raise EndpointRefused("The URL names no host.")
    return host


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ip_address(host)
    except ValueError:
        return None


def _host_name(host: str) -> str:
    """The host in the ASCII form resolvers take, if it is a plain DNS name."""
    if _NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]):
        raise EndpointRefused("A host that is an IPv4 address is written as four decimal numbers.")
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        name = ""
    if not _DNS_NAME.fullmatch(name):
        raise EndpointRefused("The URL's host is not a valid host name.")
    return name


async def _resolve(host: str, resolve: Resolver) -> list[IPAddress]:
    try:
        answers = await resolve(host)
    except OSError:
        answers = []
    if not answers:
        raise EndpointRefused(f"The endpoint's host {host} does not resolve.")
    return [ip_address(answer) for answer in answers]
