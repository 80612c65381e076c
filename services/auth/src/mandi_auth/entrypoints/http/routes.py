"""The auth service's routes: thin, each parses, calls one use case and shapes the answer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from mandi_auth.domain.api_keys import ApiKey
from mandi_auth.domain.limits import Limit
from mandi_auth.entrypoints.http.deps import ClientAddressDep, DepsDep
from mandi_auth.entrypoints.http.schemas import (
    ApiKeyOut,
    IssueApiKeyIn,
    IssuedApiKeyOut,
    LoginIn,
    MeOut,
    NewUserIn,
    RefreshIn,
    RotatedApiKeyOut,
    TokenPairOut,
    UserOut,
)
from mandi_auth.service_layer import accounts, api_keys, sessions
from mandi_runtime.requests import PrincipalDep

__all__ = ["router"]

router = APIRouter()
# How a credential is obtained or checked: reached without one (the gateway's public routes).
_PUBLIC: dict[str, object] = {"security": []}


def _pair(pair: sessions.TokenPair) -> TokenPairOut:
    return TokenPairOut(**pair.__dict__)


@router.post("/login", response_model=TokenPairOut, openapi_extra=_PUBLIC)
async def login(body: LoginIn, deps: DepsDep, address: ClientAddressDep) -> TokenPairOut:
    """Signs a user in; the same refusal whatever was wrong."""
    command = sessions.Login(
        tenant=body.tenant, email=body.email, password=body.password, client_address=address
    )
    return _pair(await sessions.login(deps, command))


@router.post("/token/refresh", response_model=TokenPairOut, openapi_extra=_PUBLIC)
async def refresh(body: RefreshIn, deps: DepsDep) -> TokenPairOut:
    """Renews a session; a refresh token used twice ends it."""
    return _pair(await sessions.refresh(deps, body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=_PUBLIC)
async def logout(body: RefreshIn, deps: DepsDep) -> Response:
    """Ends a session and refuses its access tokens from now on."""
    await sessions.logout(deps, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeOut)
async def me(principal: PrincipalDep) -> MeOut:
    """Who the request acts as."""
    return MeOut(
        tenant_id=principal.tenant_id,
        principal_id=principal.principal_id,
        type=principal.type,
        partner_id=principal.partner_id,
        scopes=sorted(principal.scopes),
        roles=sorted(principal.roles),
    )


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
async def create_user(body: NewUserIn, principal: PrincipalDep, deps: DepsDep) -> UserOut:
    """Adds a user to the caller's tenant."""
    user = await accounts.create_user(deps, principal, body.to_command())
    return UserOut(id=user.id, type=user.type, roles=sorted(user.roles), partner_id=user.partner_id)


def _key_out(key: ApiKey, last_used: Mapping[UUID, datetime] | None = None) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.visible_prefix,
        "partner_id": key.partner_id,
        "scopes": sorted(key.scopes),
        "plan": key.plan,
        "limit": key.limit.__dict__ if key.limit else None,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "replaced_by": key.replaced_by,
        "last_used_at": (last_used or {}).get(key.id),
    }


@router.post("/api-keys", response_model=IssuedApiKeyOut, status_code=status.HTTP_201_CREATED)
async def issue_api_key(
    body: IssueApiKeyIn, principal: PrincipalDep, deps: DepsDep
) -> IssuedApiKeyOut:
    """Issues a key; its full value is in this answer and nowhere else, ever."""
    own_limit = Limit(**body.limit.model_dump()) if body.limit else None
    command = api_keys.IssueApiKey(
        body.name, frozenset(body.scopes), body.partner_id, body.plan, body.expires_at, own_limit
    )
    issued = await api_keys.issue_api_key(deps, principal, command)
    return IssuedApiKeyOut(**_key_out(issued.key), key=issued.value)


@router.get("/api-keys", response_model=list[ApiKeyOut])
async def list_api_keys(
    principal: PrincipalDep, deps: DepsDep, partner_id: UUID | None = None
) -> list[ApiKeyOut]:
    """The keys of a partner (or of the tenant, for internal principals), with when last used."""
    keys = await api_keys.list_api_keys(deps, principal, partner_id)
    last_used = await deps.gatekeeper.last_used([key.id for key in keys])
    return [ApiKeyOut(**_key_out(key, last_used)) for key in keys]


@router.post(
    "/api-keys/{key_id:uuid}/rotate",
    response_model=RotatedApiKeyOut,
    status_code=status.HTTP_201_CREATED,
)
async def rotate_api_key(key_id: UUID, principal: PrincipalDep, deps: DepsDep) -> RotatedApiKeyOut:
    """A successor key; the old one keeps working for the overlap."""
    issued, old_until = await api_keys.rotate_api_key(deps, principal, key_id)
    return RotatedApiKeyOut(
        **_key_out(issued.key), key=issued.value, previous_key_valid_until=old_until
    )


@router.post("/api-keys/{key_id:uuid}/revoke", response_model=ApiKeyOut)
async def revoke_api_key(key_id: UUID, principal: PrincipalDep, deps: DepsDep) -> ApiKeyOut:
    """Revokes a key: the gateway refuses it within a second."""
    return ApiKeyOut(**_key_out(await api_keys.revoke_api_key(deps, principal, key_id)))


@router.get("/.well-known/jwks.json", openapi_extra=_PUBLIC)
async def jwks(deps: DepsDep) -> dict[str, object]:
    """The public keys access tokens are signed with."""
    return deps.signer.jwks()
