"""The sign-in throttle through the real gateway: bursts, addresses, and what an answer reveals.

A 401 means auth checked the password; a 429 means it refused before checking it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mandi_auth.config import Settings
from mandi_testing.platform import RunningPlatform

# The platform runs auth with its default sign-in limits.
FREE_ATTEMPTS = Settings.model_fields["login_free_attempts"].default
BURST = 20


def _login(client: httpx.Client, tenant: str, email: str, password: str) -> httpx.Response:
    body = {"tenant": tenant, "email": email, "password": password}
    return client.post("/api/v1/auth/login", json=body)


@pytest.fixture
def elsewhere(platform: RunningPlatform) -> Iterator[httpx.Client]:
    """A client of the gateway from another loopback address than the `gateway` fixture's."""
    octets = (secrets.randbelow(254) + 1, secrets.randbelow(256), secrets.randbelow(254) + 1)
    address = "127.{}.{}.{}".format(*octets)
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=platform.gateway.url, timeout=10, transport=transport) as client:
        yield client


def _burst(client: httpx.Client, tenant: str, email: str) -> list[httpx.Response]:
    """BURST wrong passwords for one account, sent at the same moment from one address."""
    start = threading.Barrier(BURST)

    def guess(number: int) -> httpx.Response:
        start.wait()
        return _login(client, tenant, email, f"guess-{number}")

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        return list(pool.map(guess, range(BURST)))


def _assert_held_back_before_the_password_check(answers: list[httpx.Response]) -> None:
    statuses = sorted(answer.status_code for answer in answers)
    checked = statuses.count(401)
    assert 1 <= checked <= FREE_ATTEMPTS, statuses
    assert statuses.count(429) == BURST - checked, statuses
    for refusal in (answer for answer in answers if answer.status_code == 429):
        assert refusal.headers["content-type"] == "application/problem+json"
        assert refusal.json()["detail"] == "Too many failed sign-ins; try again later."
        assert int(refusal.headers["retry-after"]) >= 1


def test_a_burst_of_guesses_reaches_the_password_check_only_the_free_attempts(gateway, new_admin):
    admin = new_admin()
    _assert_held_back_before_the_password_check(_burst(gateway, admin.tenant, admin.email))


def test_a_burst_at_an_unknown_account_is_held_back_the_same_way(gateway, new_admin):
    admin = new_admin()
    ghost = f"ghost-{secrets.token_hex(4)}@nowhere.example"
    _assert_held_back_before_the_password_check(_burst(gateway, admin.tenant, ghost))


def test_the_owner_signs_in_from_elsewhere_while_a_guesser_is_held_back(
    gateway, elsewhere, new_admin
):
    admin = new_admin()
    answers = [_login(gateway, admin.tenant, admin.email, "wrong") for _ in range(FREE_ATTEMPTS)]
    assert {answer.status_code for answer in answers} == {401}
    # From the guesser's address even the right password now waits...
    held_back = _login(gateway, admin.tenant, admin.email, admin.password)
    assert held_back.status_code == 429
    assert int(held_back.headers["retry-after"]) >= 1
    # ...while the owner, elsewhere, signs in as usual.
    owner = _login(elsewhere, admin.tenant, admin.email, admin.password)
    assert owner.status_code == 200, owner.text
    assert owner.json()["access_token"]
