"""The sign-in throttle on real Redis: its script under concurrency, and what its keys reveal."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import pytest

from mandi_auth.adapters.login_throttle import RedisLoginThrottle
from mandi_auth.domain.login_backoff import LoginBackoff, LoginScope
from mandi_auth.service_layer import accounts, sessions
from mandi_auth.service_layer.ports import ThrottleKey
from mandi_errors import NotAuthenticated, RateLimited

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"


async def _tenant(service):
    slug = f"t-{uuid.uuid4().hex[:10]}"
    await accounts.create_tenant(
        service.deps, accounts.CreateTenant(slug, slug, f"admin@{slug}.example", PASSWORD)
    )
    return slug


def _throttle(redis, settings, *, account_from_address=5, account=100, address=50, **backoff):
    free = {
        LoginScope.ACCOUNT_FROM_ADDRESS: account_from_address,
        LoginScope.ACCOUNT: account,
        LoginScope.ADDRESS: address,
    }
    limits = {scope: LoginBackoff(free_attempts=n, **backoff) for scope, n in free.items()}
    return RedisLoginThrottle(redis, settings.secret("api_key_pepper").encode(), limits)


def _keys(address: str | None = None, account: str | None = None):
    """The keys of one attempt; a new account and address unless given (Redis keeps counts)."""
    address = address or f"address-{uuid.uuid4()}"
    account = account or f"user-{uuid.uuid4()}@example.test"
    return [
        ThrottleKey(LoginScope.ACCOUNT_FROM_ADDRESS, ("acme", account, address)),
        ThrottleKey(LoginScope.ACCOUNT, ("acme", account)),
        ThrottleKey(LoginScope.ADDRESS, (address,)),
    ]


async def test_a_burst_of_guesses_reaches_the_password_check_only_the_free_attempts(
    service, settings
):
    slug = await _tenant(service)
    guess = sessions.Login(slug, f"admin@{slug}.example", "wrong password", str(uuid.uuid4()))
    answers = await asyncio.gather(
        *(sessions.login(service.deps, guess) for _ in range(20)), return_exceptions=True
    )
    checked = sum(isinstance(answer, NotAuthenticated) for answer in answers)
    held_back = sum(isinstance(answer, RateLimited) for answer in answers)
    assert (checked, held_back) == (settings.login_free_attempts, 20 - settings.login_free_attempts)


async def _throttle_key_names(redis) -> set[str]:
    return {name.decode() async for name in redis.scan_iter(match="mandi:auth:login*")}


async def test_no_key_can_be_recomputed_from_a_guessed_account_or_address(service, redis):
    slug = await _tenant(service)
    email, address = f"admin@{slug}.example", f"198.51.100.{uuid.uuid4().int % 250}"
    before = await _throttle_key_names(redis)
    with pytest.raises(NotAuthenticated):
        await sessions.login(service.deps, sessions.Login(slug, email, "wrong", address))
    written = await _throttle_key_names(redis) - before
    guessable = {
        email,
        address,
        hashlib.sha256(f"{slug}\n{email}".encode()).hexdigest(),
        hashlib.sha256(address.encode()).hexdigest(),
    }
    assert written
    assert not [name for name in written if any(part in name for part in guessable)], written


async def test_concurrent_reservations_never_pass_more_than_the_free_attempts(redis, settings):
    throttle, keys = _throttle(redis, settings), _keys()
    waits = await asyncio.gather(*(throttle.reserve(keys) for _ in range(50)))
    assert sum(wait == 0 for wait in waits) == 5
    assert all(0 < wait <= 1 for wait in waits if wait)


async def test_guesses_spread_over_addresses_are_held_back_by_the_account_wide_count(
    redis, settings
):
    throttle = _throttle(redis, settings, account_from_address=3, account=7)
    account, addresses = f"user-{uuid.uuid4()}@example.test", [str(uuid.uuid4()) for _ in range(5)]
    attempts = [_keys(address, account) for address in addresses for _ in range(3)]
    waits = await asyncio.gather(*(throttle.reserve(keys) for keys in attempts))
    assert sum(wait == 0 for wait in waits) == 7
    # A fresh address with nothing against it is held back as well, by the account's count.
    assert await throttle.reserve(_keys(account=account)) > 0


async def test_each_wait_doubles_up_to_the_cap_as_the_backoff_says(redis, settings):
    backoff = LoginBackoff(free_attempts=2, base_seconds=0.2, max_seconds=0.4)
    throttle = _throttle(redis, settings, account_from_address=2, base_seconds=0.2, max_seconds=0.4)
    keys = _keys()
    assert [await throttle.reserve(keys) for _ in range(2)] == [0, 0]
    for failures in (2, 3, 4):
        wait = await throttle.reserve(keys)
        assert backoff.wait_after(failures) - 0.05 < wait <= backoff.wait_after(failures)
        await asyncio.sleep(wait + 0.02)
        assert await throttle.reserve(keys) == 0


async def test_a_correct_sign_in_clears_the_account_and_gives_back_the_address(redis, settings):
    throttle = _throttle(redis, settings, account_from_address=3, account=3, address=3)
    account_from_address, account, address = keys = _keys()
    assert [await throttle.reserve(keys) for _ in range(3)] == [0, 0, 0]  # two wrong, one right
    await throttle.succeeded(clear=[account_from_address, account], give_back=[address])
    # The account's failures are forgotten; the address keeps its two failures and gives back
    # only the correct sign-in's reservation.
    assert await throttle.reserve(keys) == 0
    assert await throttle.reserve(keys) > 0


async def test_a_busy_address_s_correct_sign_ins_never_add_up_against_it(redis, settings):
    throttle, address = _throttle(redis, settings, address=3), f"address-{uuid.uuid4()}"
    for _ in range(6):
        keys = _keys(address)
        assert await throttle.reserve(keys) == 0
        await throttle.succeeded(clear=keys[:2], give_back=keys[2:])
