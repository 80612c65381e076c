"""The auth use cases on fakes: sign-in, sessions, users, API keys and the gateway's decision."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest

from mandi_auth.service_layer import accounts, api_keys, sessions
from mandi_auth.service_layer.authorize import AuthorizeRequest, authorize, verify_direct_call
from mandi_contracts.auth import (
    ApiKeyIssued,
    ApiKeyRevoked,
    ApiKeyRotated,
    TenantCreated,
    TenantReactivated,
    TenantSuspended,
    UserCreated,
)
from mandi_errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from mandi_security.principal import Principal, PrincipalType
from mandi_security.tokens import TokenRejected

PASSWORD = "correct horse battery"
PARTNER = uuid4()


async def _tenant(deps, slug="acme"):
    return await accounts.create_tenant(
        deps, accounts.CreateTenant(slug, "Acme", f"admin@{slug}.example", PASSWORD)
    )


async def _admin(deps, slug="acme"):
    created = await _tenant(deps, slug)
    return Principal(
        tenant_id=created.tenant_id,
        principal_id=str(created.admin_user_id),
        type=PrincipalType.INTERNAL,
        scopes=frozenset({"*"}),
        roles=frozenset({"admin"}),
    )


def _login(slug="acme", password=PASSWORD, email=None, address="10.0.0.1"):
    return sessions.Login(slug, email or f"admin@{slug}.example", password, address)


async def test_a_tenant_arrives_with_its_admin_and_both_are_announced(deps, fakes):
    created = await _tenant(deps)
    assert created.generated_password is None
    kinds = [type(published.event) for published in fakes.store.events]
    assert kinds == [TenantCreated, UserCreated]
    # Both are the new tenant's events, though no request of that tenant made them.
    assert {published.tenant_id for published in fakes.store.events} == {created.tenant_id}
    with pytest.raises(Conflict):
        await _tenant(deps)


async def test_without_a_password_one_is_generated_and_returned_once(deps):
    created = await accounts.create_tenant(
        deps, accounts.CreateTenant("beta", "Beta", "admin@beta.example")
    )
    assert created.generated_password is not None
    assert len(created.generated_password) >= 20
    tokens = await sessions.login(deps, _login("beta", created.generated_password))
    assert tokens.access_token


async def test_signing_in_gives_an_access_token_for_the_user(deps, fakes):
    created = await _tenant(deps)
    tokens = await sessions.login(deps, _login())
    claims = fakes.signer.claims[tokens.access_token]
    assert claims["sub"] == str(created.admin_user_id)
    assert claims["tid"] == str(created.tenant_id)
    assert tokens.refresh_token.startswith("mandi_rt_")


async def test_every_failed_sign_in_looks_the_same(deps, fakes):
    await _tenant(deps)
    refusals = []
    for attempt in (
        _login(password="wrong password"),
        _login(email="ghost@acme.example"),
        _login(slug="nobody"),
    ):
        with pytest.raises(NotAuthenticated) as refused:
            await sessions.login(deps, attempt)
        refusals.append(refused.value.detail)
    assert len(set(refusals)) == 1
    assert fakes.passwords.burned == 2  # unknown account or tenant: a hash is computed anyway


async def test_repeated_failures_make_the_next_attempt_wait(deps):
    await _tenant(deps)
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            await sessions.login(deps, _login(password="wrong password"))
    with pytest.raises(RateLimited) as waiting:
        await sessions.login(deps, _login())  # even the right password waits
    assert waiting.value.retry_after_seconds >= 1


async def test_a_burst_of_guesses_reaches_the_password_check_only_the_free_attempts(deps, fakes):
    await _tenant(deps)
    guesses = [sessions.login(deps, _login(password=f"guess {n}")) for n in range(20)]
    answers = await asyncio.gather(*guesses, return_exceptions=True)
    checked = [answer for answer in answers if isinstance(answer, NotAuthenticated)]
    held_back = [answer for answer in answers if isinstance(answer, RateLimited)]
    assert (len(checked), len(held_back)) == (3, 17)
    assert fakes.passwords.verified == 3


async def test_an_unknown_account_is_held_back_after_as_many_guesses(deps, fakes):
    await _tenant(deps)
    for email in ("admin@acme.example", "ghost@acme.example"):
        for _ in range(3):
            with pytest.raises(NotAuthenticated):
                await sessions.login(deps, _login(email=email, password="wrong password"))
        with pytest.raises(RateLimited):
            await sessions.login(deps, _login(email=email, password="wrong password"))
    assert fakes.passwords.burned == 3


async def test_a_guesser_held_back_elsewhere_does_not_keep_the_owner_out(deps):
    await _tenant(deps)
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            await sessions.login(deps, _login(password="wrong password", address="203.0.113.9"))
    with pytest.raises(RateLimited):
        await sessions.login(deps, _login(address="203.0.113.9"))  # the right password waits there
    tokens = await sessions.login(deps, _login(address="10.0.0.1"))
    assert tokens.access_token


async def test_guesses_spread_over_many_addresses_hold_back_the_whole_account(deps):
    await _tenant(deps)
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        for _ in range(2):
            with pytest.raises(NotAuthenticated):
                await sessions.login(deps, _login(password="wrong password", address=address))
    with pytest.raises(RateLimited):
        await sessions.login(deps, _login(address="10.0.0.1"))


async def test_a_correct_sign_in_forgets_the_account_s_failures(deps):
    await _tenant(deps)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            await sessions.login(deps, _login(password="wrong password"))
    await sessions.login(deps, _login())
    for _ in range(3):  # three free attempts again, not one
        with pytest.raises(NotAuthenticated):
            await sessions.login(deps, _login(password="wrong password"))


async def test_sign_ins_from_one_busy_address_never_count_against_it(deps):
    await _tenant(deps)
    for _ in range(12):  # more than the address's free attempts: an office behind one NAT
        assert (await sessions.login(deps, _login(address="198.51.100.7"))).access_token


async def test_a_refresh_token_renews_the_session_once(deps):
    await _tenant(deps)
    first = await sessions.login(deps, _login())
    second = await sessions.refresh(deps, first.refresh_token)
    assert second.refresh_token != first.refresh_token
    third = await sessions.refresh(deps, second.refresh_token)
    assert third.access_token


async def test_a_reused_refresh_token_ends_the_family_and_its_access_tokens(deps, fakes):
    await _tenant(deps)
    first = await sessions.login(deps, _login())
    second = await sessions.refresh(deps, first.refresh_token)
    with pytest.raises(NotAuthenticated, match="used before"):
        await sessions.refresh(deps, first.refresh_token)
    with pytest.raises(NotAuthenticated):
        await sessions.refresh(deps, second.refresh_token)
    session = fakes.signer.claims[second.access_token]["sid"]
    assert {str(sid) for sid in fakes.gatekeeper.revoked_sessions} == {session}


async def test_logout_ends_the_session(deps):
    await _tenant(deps)
    tokens = await sessions.login(deps, _login())
    await sessions.logout(deps, tokens.refresh_token)
    with pytest.raises(NotAuthenticated):
        await sessions.refresh(deps, tokens.refresh_token)
    decision = await authorize(
        deps, AuthorizeRequest("GET", "auth", "/api/v1/auth/me", f"Bearer {tokens.access_token}")
    )
    assert (decision.status, decision.reason) == (401, "revoked")


@pytest.mark.parametrize("value", ["", "mandi_rt_", "mandi_rt_nothex.secret", "other.secret"])
async def test_a_malformed_refresh_token_is_refused(deps, value):
    with pytest.raises(NotAuthenticated):
        await sessions.refresh(deps, value)


async def test_a_refresh_token_expires(deps, fakes):
    await _tenant(deps)
    tokens = await sessions.login(deps, _login())
    fakes.clock.advance(deps.refresh_token_lifetime)
    with pytest.raises(NotAuthenticated, match="expired"):
        await sessions.refresh(deps, tokens.refresh_token)


async def test_admins_add_users_and_partner_admins_only_their_partner_users(deps):
    admin = await _admin(deps)
    partner_admin = await accounts.create_user(
        deps,
        admin,
        accounts.CreateUser(
            "pa@partner.example",
            PASSWORD,
            PrincipalType.EXTERNAL,
            frozenset({"partner_admin"}),
            PARTNER,
        ),
    )
    as_partner_admin = partner_admin.principal()
    await accounts.create_user(
        deps,
        as_partner_admin,
        accounts.CreateUser(
            "pu@partner.example",
            PASSWORD,
            PrincipalType.EXTERNAL,
            frozenset({"partner_user"}),
            PARTNER,
        ),
    )
    with pytest.raises(PermissionDenied):
        await accounts.create_user(
            deps,
            as_partner_admin,
            accounts.CreateUser(
                "x@other.example",
                PASSWORD,
                PrincipalType.EXTERNAL,
                frozenset({"partner_user"}),
                uuid4(),
            ),
        )
    with pytest.raises(Conflict):
        await accounts.create_user(
            deps,
            admin,
            accounts.CreateUser(
                "PA@partner.example",
                PASSWORD,
                PrincipalType.EXTERNAL,
                frozenset({"partner_user"}),
                PARTNER,
            ),
        )
    with pytest.raises(InvalidInput):
        await accounts.create_user(
            deps,
            admin,
            accounts.CreateUser(
                "short@partner.example", "short", PrincipalType.INTERNAL, frozenset({"auditor"})
            ),
        )


async def _issue(deps, principal, **changes):
    command = (
        api_keys.IssueApiKey("erp", frozenset({"auth:read"}), PARTNER)
        if not changes
        else api_keys.IssueApiKey(
            **({"name": "erp", "scopes": frozenset({"auth:read"}), "partner_id": PARTNER} | changes)
        )
    )
    return await api_keys.issue_api_key(deps, principal, command)


async def test_an_issued_key_is_stored_only_as_a_hash_and_announced(deps, fakes):
    admin = await _admin(deps)
    issued = await _issue(deps, admin)
    stored = fakes.store.table("api_keys")[issued.key.id]
    assert issued.value not in repr(stored)
    assert stored.secret_hash.startswith("digest:")
    assert isinstance(fakes.store.events[-1].event, ApiKeyIssued)


async def test_a_key_is_refused_an_unknown_plan_or_a_past_expiry(deps, fakes):
    admin = await _admin(deps)
    with pytest.raises(InvalidInput, match="plan"):
        await _issue(deps, admin, plan="gold")
    with pytest.raises(InvalidInput, match="future"):
        await _issue(deps, admin, expires_at=fakes.clock.now())


async def _decide(deps, key_value, method="GET", path="/api/v1/auth/me"):
    service = path.split("/")[3]  # the service the gateway's route for this path names
    return await authorize(deps, AuthorizeRequest(method, service, path, api_key=key_value))


async def test_the_gateway_admits_a_key_within_its_scopes_and_limit(deps):
    issued = await _issue(deps, await _admin(deps))
    allowed = await _decide(deps, issued.value)
    assert allowed.allowed
    assert allowed.principal.partner_id == PARTNER
    refused = await _decide(deps, issued.value, "POST", "/api/v1/auth/users")
    assert (refused.status, refused.reason) == (403, "insufficient_scope")
    nameless = await authorize(
        deps, AuthorizeRequest("GET", "", "/api/v1/auth/me", None, issued.value)
    )
    assert (nameless.status, nameless.reason) == (403, "unroutable")
    for _ in range(2):
        await _decide(deps, issued.value)  # the standard plan's burst is 3
    limited = await _decide(deps, issued.value)
    assert (limited.status, limited.reason) == (429, "rate_limited")
    assert limited.verdict.retry_after_seconds > 0


async def test_the_gateway_refuses_unknown_revoked_and_expired_keys(deps, fakes):
    admin = await _admin(deps)
    assert (await _decide(deps, "mandi_live_nonsense")).reason == "invalid_api_key"
    revoked = await _issue(deps, admin)
    await api_keys.revoke_api_key(deps, admin, revoked.key.id)
    assert isinstance(fakes.store.events[-1].event, ApiKeyRevoked)
    assert (await _decide(deps, revoked.value)).reason == "revoked_api_key"
    expiring = await _issue(deps, admin, expires_at=fakes.clock.now() + timedelta(minutes=1))
    fakes.clock.advance(timedelta(minutes=1))
    assert (await _decide(deps, expiring.value)).reason == "expired_api_key"


async def test_a_key_with_the_right_id_but_a_wrong_secret_is_refused(deps):
    issued = await _issue(deps, await _admin(deps))
    other = await _issue(deps, await _admin(deps, "other"))
    forged = issued.value[: len("mandi_live_") + 22] + other.value[len("mandi_live_") + 22 :]
    assert (await _decide(deps, forged)).reason == "invalid_api_key"


async def test_rotation_overlaps_then_ends_the_old_key(deps, fakes):
    admin = await _admin(deps)
    old = await _issue(deps, admin, plan="premium")
    new, old_until = await api_keys.rotate_api_key(deps, admin, old.key.id)
    assert isinstance(fakes.store.events[-1].event, ApiKeyRotated)
    assert new.key.plan == "premium"
    assert old_until == fakes.clock.now() + timedelta(hours=24)
    assert (await _decide(deps, old.value)).allowed
    assert (await _decide(deps, new.value)).allowed
    fakes.clock.advance(timedelta(hours=24))
    assert (await _decide(deps, old.value)).reason == "expired_api_key"
    assert (await _decide(deps, new.value)).allowed


async def test_keys_of_another_tenant_or_partner_are_not_found(deps):
    admin, stranger = await _admin(deps), await _admin(deps, "other")
    issued = await _issue(deps, admin)
    with pytest.raises(NotFound):
        await api_keys.revoke_api_key(deps, stranger, issued.key.id)
    other_partner = Principal(
        tenant_id=admin.tenant_id,
        principal_id="p",
        type=PrincipalType.EXTERNAL,
        partner_id=uuid4(),
        scopes=frozenset({"auth:read", "auth:write"}),
    )
    with pytest.raises(NotFound):
        await api_keys.rotate_api_key(deps, other_partner, issued.key.id)
    assert await api_keys.list_api_keys(deps, other_partner, None) == []
    assert [k.id for k in await api_keys.list_api_keys(deps, admin, PARTNER)] == [issued.key.id]


async def test_the_gateway_checks_tokens_and_their_sessions(deps):
    await _tenant(deps)
    tokens = await sessions.login(deps, _login())
    ok = await authorize(
        deps,
        AuthorizeRequest("GET", "matching", "/api/v1/matching/x", f"Bearer {tokens.access_token}"),
    )
    assert ok.allowed
    assert ok.principal.roles == {"admin"}
    missing = await authorize(deps, AuthorizeRequest("GET", "matching", "/api/v1/matching/x"))
    assert (missing.status, missing.reason) == (401, "missing_credential")
    forged = await authorize(
        deps, AuthorizeRequest("GET", "matching", "/api/v1/matching/x", "Bearer forged")
    )
    assert (forged.status, forged.reason) == (401, "invalid_token")


def _partner_admin(admin, partner=PARTNER):
    return Principal(
        tenant_id=admin.tenant_id,
        principal_id="partner-admin",
        type=PrincipalType.EXTERNAL,
        partner_id=partner,
        scopes=frozenset({"auth:read", "auth:write"}),
        roles=frozenset({"partner_admin"}),
    )


async def test_only_operator_staff_choose_a_key_plan(deps):
    admin = await _admin(deps)
    partner_admin = _partner_admin(admin)
    with pytest.raises(PermissionDenied, match="plan"):
        await _issue(deps, partner_admin, plan="premium")
    assert (await _issue(deps, partner_admin)).key.plan == "standard"
    premium = await _issue(deps, admin, plan="premium")
    # Rotating keeps the plan the operator chose, whoever rotates.
    rotated, _ = await api_keys.rotate_api_key(deps, partner_admin, premium.key.id)
    assert rotated.key.plan == "premium"


async def test_a_partner_has_at_most_the_capped_number_of_valid_keys(deps, fakes):
    admin = await _admin(deps)
    keys = [await _issue(deps, admin) for _ in range(4)]  # the fixture's cap
    with pytest.raises(Conflict, match="revoke one"):
        await _issue(deps, admin)
    assert await _issue(deps, admin, partner_id=uuid4())  # another partner's keys are apart
    await api_keys.revoke_api_key(deps, admin, keys[0].key.id)
    expiring = await _issue(deps, admin, expires_at=fakes.clock.now() + timedelta(minutes=1))
    with pytest.raises(Conflict):
        await _issue(deps, admin)
    fakes.clock.advance(timedelta(minutes=1))
    await _issue(deps, admin)  # the expired key no longer counts
    assert expiring.key.id not in {k.key.id for k in keys}
    rotated, _ = await api_keys.rotate_api_key(deps, admin, keys[1].key.id)
    assert rotated.key.partner_id == PARTNER  # rotation replaces a key: the cap allows it


async def test_a_partner_keys_and_users_share_one_bucket(deps, fakes):
    admin = await _admin(deps)
    first, second = await _issue(deps, admin), await _issue(deps, admin)
    neighbour = await _issue(deps, admin, partner_id=uuid4())
    assert (await _decide(deps, first.value)).allowed
    # The partner's bucket empties (whichever of its keys or users drew on it) ...
    fakes.gatekeeper.used[f"partner:{admin.tenant_id}:{PARTNER}"] = 50  # the fixture's burst
    # ... so its other key, whose own bucket is full, is refused too; its neighbour is not.
    refused = await _decide(deps, second.value)
    assert (refused.status, refused.reason) == (429, "rate_limited")
    assert (await _decide(deps, neighbour.value)).allowed


async def _gateway(deps, authorization=None, api_key=None):
    request = AuthorizeRequest("GET", "auth", "/api/v1/auth/me", authorization, api_key)
    return await authorize(deps, request)


async def test_suspending_a_tenant_ends_its_sessions_and_refuses_its_keys(deps, fakes):
    admin = await _admin(deps)
    tokens = await sessions.login(deps, _login())
    key = await _issue(deps, admin)
    assert (await _gateway(deps, f"Bearer {tokens.access_token}")).allowed

    assert await accounts.suspend_tenant(deps, "acme", by="ops") == 1
    assert isinstance(fakes.store.events[-1].event, TenantSuspended)
    assert fakes.store.events[-1].tenant_id == admin.tenant_id
    token = await _gateway(deps, f"Bearer {tokens.access_token}")
    assert (token.status, token.reason) == (401, "tenant_suspended")
    by_key = await _gateway(deps, api_key=key.value)
    assert (by_key.status, by_key.reason) == (401, "tenant_suspended")
    with pytest.raises(NotAuthenticated):
        await sessions.refresh(deps, tokens.refresh_token)
    with pytest.raises(NotAuthenticated):
        await sessions.login(deps, _login())
    with pytest.raises(Conflict):
        await accounts.suspend_tenant(deps, "acme", by="ops")


async def test_a_reactivated_tenant_signs_in_anew_and_its_keys_work_again(deps, fakes):
    admin = await _admin(deps)
    tokens = await sessions.login(deps, _login())
    key = await _issue(deps, admin)
    await accounts.suspend_tenant(deps, "acme", by="ops")
    await accounts.reactivate_tenant(deps, "acme", by="ops")
    assert isinstance(fakes.store.events[-1].event, TenantReactivated)
    assert (await _gateway(deps, api_key=key.value)).allowed
    # The sessions the suspension ended stay ended.
    ended = await _gateway(deps, f"Bearer {tokens.access_token}")
    assert (ended.status, ended.reason) == (401, "revoked")
    assert (await sessions.login(deps, _login())).access_token
    with pytest.raises(NotFound):
        await accounts.suspend_tenant(deps, "nobody", by="ops")


async def test_a_direct_call_is_refused_an_ended_session_or_a_suspended_tenant(deps, fakes):
    await _tenant(deps)
    live, ended = await sessions.login(deps, _login()), await sessions.login(deps, _login())
    await sessions.logout(deps, ended.refresh_token)
    assert (await verify_direct_call(deps, live.access_token))["tid"]
    with pytest.raises(TokenRejected) as refused:
        await verify_direct_call(deps, ended.access_token)
    assert refused.value.reason == "revoked"
    await accounts.suspend_tenant(deps, "acme", by="ops")
    with pytest.raises(TokenRejected) as suspended:
        await verify_direct_call(deps, live.access_token)
    assert suspended.value.reason == "revoked"  # the suspension ended every session
    fakes.gatekeeper.revoked_sessions.clear()  # as if Redis had forgotten: the status still holds
    with pytest.raises(TokenRejected) as still_suspended:
        await verify_direct_call(deps, live.access_token)
    assert still_suspended.value.reason == "tenant_suspended"
