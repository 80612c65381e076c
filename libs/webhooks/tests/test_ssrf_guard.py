import socket
from collections.abc import Sequence
from ipaddress import ip_address

import pytest

from mandi_webhooks import (
    EndpointRefused,
    RefusedRange,
    Resolver,
    check_connected_address,
    check_endpoint_url,
    classify_address,
)

R = RefusedRange

REFUSED = [
    # IPv4
    ("127.0.0.1", R.LOOPBACK),
    ("127.255.255.254", R.LOOPBACK),
    ("10.0.0.1", R.PRIVATE),
    ("10.255.255.255", R.PRIVATE),
    ("172.16.0.1", R.PRIVATE),
    ("172.31.255.255", R.PRIVATE),
    ("192.168.1.10", R.PRIVATE),
    ("169.254.0.1", R.LINK_LOCAL),
    ("169.254.255.255", R.LINK_LOCAL),
    ("169.254.169.254", R.CLOUD_METADATA),
    ("169.254.170.2", R.CLOUD_METADATA),
    ("100.100.100.200", R.CLOUD_METADATA),
    ("168.63.129.16", R.CLOUD_METADATA),
    ("100.64.0.0", R.SHARED),
    ("100.127.255.255", R.SHARED),
    ("0.0.0.0", R.UNSPECIFIED),  # noqa: S104 - classified, never bound
    ("0.1.2.3", R.RESERVED),
    ("224.0.0.1", R.MULTICAST),
    ("239.255.255.250", R.MULTICAST),
    ("240.0.0.1", R.RESERVED),
    ("255.255.255.255", R.RESERVED),
    ("192.0.0.8", R.RESERVED),
    ("192.0.2.1", R.DOCUMENTATION),
    ("198.51.100.7", R.DOCUMENTATION),
    ("203.0.113.9", R.DOCUMENTATION),
    ("198.18.0.1", R.BENCHMARKING),
    ("198.19.255.255", R.BENCHMARKING),
    # IPv6
    ("::1", R.LOOPBACK),
    ("::", R.UNSPECIFIED),
    ("fc00::1", R.PRIVATE),
    ("fd12:3456:789a::1", R.PRIVATE),
    ("fec0::1", R.PRIVATE),
    ("fd00:ec2::254", R.CLOUD_METADATA),
    ("fe80::1", R.LINK_LOCAL),
    ("fe80::1%eth0", R.LINK_LOCAL),
    ("febf:ffff::1", R.LINK_LOCAL),
    ("ff02::1", R.MULTICAST),
    ("ff0e::101", R.MULTICAST),
    ("2001:db8::1", R.DOCUMENTATION),
    ("3fff::1", R.DOCUMENTATION),
    ("2001:2::1", R.BENCHMARKING),
    ("100::1", R.RESERVED),
    ("::127.0.0.1", R.RESERVED),
    ("2001::1", R.NOT_GLOBAL),  # Teredo
    # IPv4-mapped, NAT64 and 6to4 forms of refused IPv4 addresses
    ("::ffff:127.0.0.1", R.LOOPBACK),
    ("::ffff:10.1.2.3", R.PRIVATE),
    ("::ffff:192.168.0.1", R.PRIVATE),
    ("::ffff:169.254.169.254", R.CLOUD_METADATA),
    ("::ffff:a9fe:a9fe", R.CLOUD_METADATA),
    ("::ffff:100.64.1.1", R.SHARED),
    ("::ffff:0.0.0.0", R.UNSPECIFIED),
    ("::ffff:224.0.0.1", R.MULTICAST),
    ("64:ff9b::a00:1", R.PRIVATE),
    ("64:ff9b::7f00:1", R.LOOPBACK),
    ("64:ff9b:1::1", R.PRIVATE),
    ("2002:a00:1::", R.PRIVATE),
    ("2002:a9fe:a9fe::1", R.CLOUD_METADATA),
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",  # just below carrier-grade NAT
    "100.128.0.0",  # just above it
    "172.15.255.255",
    "172.32.0.0",
    "169.253.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
]


async def no_dns(host: str) -> list[str]:
    raise AssertionError(f"a literal address needs no resolving, yet {host} was resolved")


def resolving_to(*addresses: str) -> tuple[list[str], Resolver]:
    """A resolver that answers `addresses` for any host, and the hosts it was asked for."""
    asked: list[str] = []

    async def resolve(host: str) -> Sequence[str]:
        asked.append(host)
        return list(addresses)

    return asked, resolve


@pytest.mark.parametrize(("address", "refused"), REFUSED)
def test_each_refused_range_is_named(address: str, refused: RefusedRange) -> None:
    assert classify_address(address) is refused
    assert classify_address(ip_address(address)) is refused


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert classify_address(address) is None


@pytest.mark.parametrize(("address", "refused"), REFUSED)
async def test_a_url_with_a_refused_literal_address_is_refused(
    address: str, refused: RefusedRange
) -> None:
    host = address.replace("%", "%25")
    url = f"https://[{host}]/hooks" if ":" in address else f"https://{address}/hooks"

    with pytest.raises(EndpointRefused) as error:
        await check_endpoint_url(url, resolve=no_dns)

    assert error.value.refused_range is refused
    assert error.value.detail == (
        f"The endpoint's address {host} is an address webhooks may not reach ({refused})."
    )
    assert error.value.status == 422
    assert error.value.type_uri == "urn:mandi:problem:webhook-endpoint-refused"


@pytest.mark.parametrize("address", PUBLIC)
async def test_a_url_with_a_public_literal_address_is_allowed(address: str) -> None:
    url = f"https://[{address}]:8443/hooks" if ":" in address else f"https://{address}/hooks"

    assert await check_endpoint_url(url, resolve=no_dns) == (ip_address(address),)


async def test_a_host_name_resolving_to_a_private_address_is_refused() -> None:
    asked, resolve = resolving_to("10.20.30.40")

    with pytest.raises(EndpointRefused) as error:
        await check_endpoint_url("https://hooks.partner.example/in", resolve=resolve)

    assert asked == ["hooks.partner.example"]
    assert error.value.refused_range is R.PRIVATE
    assert error.value.detail == (
        "The endpoint's host hooks.partner.example resolves to an address webhooks may not "
        "reach (private)."
    )
    assert "10.20.30.40" not in error.value.detail
    assert error.value.address == "10.20.30.40"


async def test_a_host_name_resolving_to_one_public_and_one_private_address_is_refused() -> None:
    _, resolve = resolving_to("93.184.215.14", "169.254.169.254")

    with pytest.raises(EndpointRefused) as error:
        await check_endpoint_url("https://rebind.example/", resolve=resolve)

    assert error.value.refused_range is R.CLOUD_METADATA


async def test_a_host_name_resolving_to_a_mapped_private_address_is_refused() -> None:
    _, resolve = resolving_to("2606:4700:4700::1111", "::ffff:192.168.1.1")

    with pytest.raises(EndpointRefused) as error:
        await check_endpoint_url("https://mapped.example/", resolve=resolve)

    assert error.value.refused_range is R.PRIVATE


async def test_a_host_name_resolving_only_to_public_addresses_gives_them_all() -> None:
    _, resolve = resolving_to("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")

    addresses = await check_endpoint_url("https://partner.example/hooks?x=1", resolve=resolve)

    assert addresses == (
        ip_address("93.184.215.14"),
        ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
    )


async def test_an_international_host_name_is_resolved_in_its_ascii_form() -> None:
    asked, resolve = resolving_to("93.184.215.14")

    await check_endpoint_url("https://Bücher.example/hooks", resolve=resolve)

    assert asked == ["xn--bcher-kva.example"]


@pytest.mark.parametrize("failure", [socket.gaierror(socket.EAI_NONAME, "unknown"), None])
async def test_a_host_that_does_not_resolve_is_refused(failure: OSError | None) -> None:
    async def resolve(_host: str) -> Sequence[str]:
        if failure is not None:
            raise failure
        return []

    with pytest.raises(EndpointRefused) as error:
        await check_endpoint_url("https://nowhere.example/", resolve=resolve)

    assert error.value.detail == "The endpoint's host nowhere.example does not resolve."


async def test_the_system_resolver_is_used_by_default_and_localhost_is_refused() -> None:
    with pytest.raises(EndpointRefused) as error:
        await check_endpoint_url("https://localhost/hooks")

    assert error.value.refused_range is R.LOOPBACK


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://127.8.9.10/hooks",
        "http://[::1]:8080/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
    ],
)
async def test_loopback_is_allowed_only_with_the_development_flag(url: str) -> None:
    with pytest.raises(EndpointRefused) as error:
        await check_endpoint_url(url, resolve=no_dns, require_https=False)
    assert error.value.refused_range is R.LOOPBACK

    allowed = await check_endpoint_url(
        url, resolve=no_dns, allow_loopback=True, require_https=False
    )
    assert classify_address(allowed[0]) is R.LOOPBACK


async def test_localhost_resolving_to_both_loopbacks_is_allowed_with_the_flag() -> None:
    _, resolve = resolving_to("127.0.0.1", "::1")

    addresses = await check_endpoint_url(
        "http://localhost:9000/", resolve=resolve, allow_loopback=True, require_https=False
    )

    assert addresses == (ip_address("127.0.0.1"), ip_address("::1"))


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://10.0.0.1/", R.PRIVATE),
        ("http://0.0.0.0:8080/", R.UNSPECIFIED),
        ("http://[::]:8080/", R.UNSPECIFIED),
        ("http://169.254.169.254/latest/meta-data/", R.CLOUD_METADATA),
        ("http://[fe80::1]/", R.LINK_LOCAL),
    ],
)
async def test_the_development_flag_admits_nothing_but_loopback(
    url: str, refused: RefusedRange
) -> None:
    with pytest.raises(EndpointRefused) as error:
        await check_endpoint_url(url, resolve=no_dns, allow_loopback=True, require_https=False)

    assert error.value.refused_range is refused


async def test_https_is_required_unless_turned_off() -> None:
    _, resolve = resolving_to("93.184.215.14")

    with pytest.raises(EndpointRefused) as error:
        await check_endpoint_url("http://partner.example/hooks", resolve=resolve)
    assert error.value.detail == "A webhook URL is https."

    allowed = await check_endpoint_url(
        "HTTP://partner.example/hooks", resolve=resolve, require_https=False
    )
    assert allowed == (ip_address("93.184.215.14"),)


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("ftp://partner.example/hooks", "A webhook URL is http or https."),
        ("file:///etc/passwd", "A webhook URL is http or https."),
        ("gopher://partner.example:70/", "A webhook URL is http or https."),
        ("javascript:alert(1)", "A webhook URL is http or https."),
        ("//partner.example/hooks", "A webhook URL is http or https."),
        ("https://user:secret@partner.example/", "A webhook URL carries no user name or password."),
        ("https://user@partner.example/", "A webhook URL carries no user name or password."),
        ("https://partner.example@10.0.0.1/", "A webhook URL carries no user name or password."),
        ("https://:@partner.example/", "A webhook URL carries no user name or password."),
        ("https://partner.example\\@10.0.0.1/", "The URL holds whitespace"),
        ("https://partner.example /", "The URL holds whitespace"),
        ("https://partner.example/\r\nHost: 10.0.0.1", "The URL holds whitespace"),
        ("https://partner.example\t/", "The URL holds whitespace"),
        ("https:///hooks", "The URL names no host."),
        ("https://partner.example:99999/", "The URL cannot be parsed."),
        ("https://partner.example:http/", "The URL cannot be parsed."),
        ("https://[::1/", "The URL cannot be parsed."),
        ("https://2130706433/", "written as four decimal numbers"),
        ("https://127.1/", "written as four decimal numbers"),
        ("https://0x7f000001/", "written as four decimal numbers"),
        ("https://0x7f.0.0.1/", "written as four decimal numbers"),
        ("https://0177.0.0.1/", "written as four decimal numbers"),
        ("https://10.0.0.010/", "written as four decimal numbers"),
        ("https://partner.example.1/", "written as four decimal numbers"),
        ("https://%31%32%37.0.0.1/", "written as four decimal numbers"),
        ("https://partner%2eexample/", "not a valid host name"),
        ("https://-partner.example/", "not a valid host name"),
        ("https://partner..example/", "not a valid host name"),
        ("https://" + "a" * 64 + ".example/", "not a valid host name"),
    ],
)
async def test_a_url_deliveries_must_not_follow_is_refused_before_any_lookup(
    url: str, detail: str
) -> None:
    with pytest.raises(EndpointRefused) as error:
        await check_endpoint_url(url, resolve=no_dns, require_https=False)

    assert detail in error.value.detail
    assert error.value.refused_range is None


@pytest.mark.parametrize(("address", "refused"), REFUSED)
def test_a_refused_connected_address_is_refused_at_delivery(
    address: str, refused: RefusedRange
) -> None:
    if refused is R.LOOPBACK:
        assert check_connected_address(address, allow_loopback=True) == ip_address(address)
    with pytest.raises(EndpointRefused) as error:
        check_connected_address(address)

    assert error.value.refused_range is refused
    assert error.value.detail == (
        f"The delivery connected to an address webhooks may not reach ({refused})."
    )


@pytest.mark.parametrize("address", PUBLIC)
def test_a_public_connected_address_is_allowed(address: str) -> None:
    assert check_connected_address(address) == ip_address(address)


@pytest.mark.parametrize("address", ["partner.example", "", "10.0.0.1:443", "[::1]"])
def test_a_connected_peer_that_is_not_an_address_is_refused(address: str) -> None:
    with pytest.raises(EndpointRefused, match="not an IP address"):
        check_connected_address(address)
