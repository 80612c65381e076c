"""Signing in, refreshing and signing out.

Every failed sign-in answers the same way, counts the same way and takes the same time, whether
the tenant, the account or only the password was wrong: nothing tells whether an account exists.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from mandi_auth.domain.identity import User, normalize_email
from mandi_auth.domain.login_backoff import LoginScope
from mandi_auth.domain.sessions import RefreshOutcome, RefreshToken
from mandi_auth.service_layer.dependencies import AuthDependencies
from mandi_auth.service_layer.ports import ThrottleKey
from mandi_auth.service_layer.unit_of_work import AuthUnitOfWork
from mandi_errors import NotAuthenticated, RateLimited

__all__ = ["Login", "TokenPair", "login", "logout", "refresh"]

_REFRESH_PREFIX = "mandi_rt_"
_WRONG_CREDENTIALS = "The tenant, email or password is not correct."


@dataclass(frozen=True)
class TokenPair:
    """A short-lived access token and the refresh token that renews it."""

    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


@dataclass(frozen=True)
class Login:
    """A sign-in attempt."""

    tenant: str
    email: str
    password: str
    client_address: str


@dataclass(frozen=True)
class _ThrottleKeys:
    account_from_address: ThrottleKey
    account: ThrottleKey
    address: ThrottleKey


def _throttle_keys(command: Login, email: str) -> _ThrottleKeys:
    account = (command.tenant, email)
    return _ThrottleKeys(
        account_from_address=ThrottleKey(
            LoginScope.ACCOUNT_FROM_ADDRESS, (*account, command.client_address)
        ),
        account=ThrottleKey(LoginScope.ACCOUNT, account),
        address=ThrottleKey(LoginScope.ADDRESS, (command.client_address,)),
    )


async def login(deps: AuthDependencies, command: Login) -> TokenPair:
    """Tokens for a correct tenant, email and password; the same refusal for anything else."""
    email = normalize_email(command.email)
    keys = _throttle_keys(command, email)
    # Counted as failed before the password is checked, in the step that checks the limits: a
    # burst of parallel guesses cannot all pass before the first of them is counted.
    wait = await deps.throttle.reserve([keys.account_from_address, keys.account, keys.address])
    if wait > 0:
        raise RateLimited(
            "Too many failed sign-ins; try again later.", retry_after_seconds=math.ceil(wait)
        )
    user = await _find_user(deps, command.tenant, email)
    if user is None:
        await deps.passwords.burn()
    if user is None or not await _password_accepted(deps, user, command.password):
        raise NotAuthenticated(_WRONG_CREDENTIALS)
    # The address keeps the failures counted before (one guesser may try many accounts from
    # it); only this attempt's own reservation is given back.
    await deps.throttle.succeeded(
        clear=[keys.account_from_address, keys.account], give_back=[keys.address]
    )
    return await _start_session(deps, user, uuid4())


async def _find_user(deps: AuthDependencies, tenant_slug: str, email: str) -> User | None:
    async with deps.directory() as directory:
        tenant = await directory.tenants.by_slug(tenant_slug)
    if tenant is None or tenant.status != "active":
        return None
    async with deps.uow(tenant.id) as uow:
        return await uow.users.by_email(email)


async def _password_accepted(deps: AuthDependencies, user: User, password: str) -> bool:
    matches = await deps.passwords.verify(user.password_hash, password)
    return matches and user.can_sign_in


async def _start_session(deps: AuthDependencies, user: User, family_id: UUID) -> TokenPair:
    async with deps.uow(user.tenant_id) as uow:
        refresh_token = await _add_refresh_token(deps, uow, user, family_id)
        await uow.commit()
    return _token_pair(deps, user, family_id, refresh_token)


async def _add_refresh_token(
    deps: AuthDependencies, uow: AuthUnitOfWork, user: User, family_id: UUID
) -> _NewRefreshToken:
    now = deps.clock.now()
    token = RefreshToken(
        id=uuid4(),
        family_id=family_id,
        tenant_id=user.tenant_id,
        user_id=user.id,
        issued_at=now,
        expires_at=now + deps.refresh_token_lifetime,
    )
    secret = secrets.token_urlsafe(32)
    await uow.credentials.add(token.id, user.tenant_id)
    await uow.refresh_tokens.add(token, deps.key_hasher.digest(secret))
    return _NewRefreshToken(f"{_REFRESH_PREFIX}{token.id.hex}.{secret}", token.expires_at)


@dataclass(frozen=True)
class _NewRefreshToken:
    value: str
    expires_at: datetime


def _token_pair(
    deps: AuthDependencies, user: User, family_id: UUID, refresh_token: _NewRefreshToken
) -> TokenPair:
    access = deps.signer.issue(user.principal(), family_id, deps.clock.now())
    return TokenPair(
        access_token=access.value,
        access_expires_at=access.expires_at,
        refresh_token=refresh_token.value,
        refresh_expires_at=refresh_token.expires_at,
    )


def _parse_refresh_token(value: str) -> tuple[UUID, str]:
    token_id, _, secret = value.removeprefix(_REFRESH_PREFIX).partition(".")
    if not value.startswith(_REFRESH_PREFIX) or not secret:
        raise NotAuthenticated("The refresh token is not valid.")
    try:
        return UUID(hex=token_id), secret
    except ValueError:
        raise NotAuthenticated("The refresh token is not valid.") from None


async def _tenant_of(deps: AuthDependencies, token_id: UUID) -> UUID:
    async with deps.directory() as directory:
        tenant_id = await directory.credentials.tenant_of(token_id)
    if tenant_id is None:
        raise NotAuthenticated("The refresh token is not valid.")
    return tenant_id


async def _locked_token(
    deps: AuthDependencies, uow: AuthUnitOfWork, token_id: UUID, secret: str
) -> RefreshToken:
    # Locked until the transaction ends: two refreshes racing with one token are serialized,
    # so the second sees the token used and ends the session.
    found = await uow.refresh_tokens.get(token_id, for_update=True)
    if found is None or not deps.key_hasher.matches(found[1], secret):
        raise NotAuthenticated("The refresh token is not valid.")
    return found[0]


async def refresh(deps: AuthDependencies, value: str) -> TokenPair:
    """New tokens for a refresh token used once; a second use ends the whole session."""
    token_id, secret = _parse_refresh_token(value)
    tenant_id = await _tenant_of(deps, token_id)
    async with deps.uow(tenant_id) as uow:
        token = await _locked_token(deps, uow, token_id, secret)
        outcome = token.outcome_of_use(deps.clock.now())
        if outcome is RefreshOutcome.REUSED:
            await uow.refresh_tokens.revoke_family(token.family_id, deps.clock.now())
            await uow.commit()
        elif outcome is RefreshOutcome.ROTATE:
            user, successor = await _rotate(deps, uow, token)
            await uow.commit()
    if outcome is RefreshOutcome.REUSED:
        await _refuse_access_tokens(deps, token.family_id)
        raise NotAuthenticated("The refresh token was used before; the session has been ended.")
    if outcome is not RefreshOutcome.ROTATE:
        raise NotAuthenticated("The refresh token has expired or was revoked.")
    return _token_pair(deps, user, token.family_id, successor)


async def _rotate(
    deps: AuthDependencies, uow: AuthUnitOfWork, token: RefreshToken
) -> tuple[User, _NewRefreshToken]:
    # The successor is written in the same transaction that spends the token: a racing reuse,
    # waiting on the token's lock, then finds the successor and revokes it with the family.
    user = await uow.users.get(token.user_id)
    if user is None or not user.can_sign_in:
        raise NotAuthenticated("The account can no longer sign in.")
    token.mark_used(deps.clock.now())
    await uow.refresh_tokens.save(token)
    return user, await _add_refresh_token(deps, uow, user, token.family_id)


async def logout(deps: AuthDependencies, value: str) -> None:
    """Ends the session: its refresh tokens and its access tokens are refused from now on."""
    token_id, secret = _parse_refresh_token(value)
    tenant_id = await _tenant_of(deps, token_id)
    async with deps.uow(tenant_id) as uow:
        token = await _locked_token(deps, uow, token_id, secret)
        await uow.refresh_tokens.revoke_family(token.family_id, deps.clock.now())
        await uow.commit()
    await _refuse_access_tokens(deps, token.family_id)


async def _refuse_access_tokens(deps: AuthDependencies, family_id: UUID) -> None:
    await deps.gatekeeper.revoke_session(family_id, deps.access_token_lifetime.total_seconds())
