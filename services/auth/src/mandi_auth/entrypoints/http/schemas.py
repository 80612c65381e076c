"""Request and response bodies of the auth service's HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mandi_security.principal import PrincipalType

__all__ = [
    "ApiKeyOut",
    "IssueApiKeyIn",
    "IssuedApiKeyOut",
    "LimitIn",
    "LimitOut",
    "LoginIn",
    "MeOut",
    "NewUserIn",
    "RefreshIn",
    "RotatedApiKeyOut",
    "TokenPairOut",
    "UserOut",
]

Scope = Annotated[
    str, StringConstraints(pattern=r"^(\*|[a-z*][a-z0-9-]*:[a-z*][a-z0-9-]*)$", max_length=64)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginIn(_Strict):
    """A sign-in: the tenant's slug, the user's email and password."""

    tenant: str = Field(min_length=2, max_length=40)
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(_Strict):
    """A refresh token, to renew or to end a session."""

    refresh_token: str = Field(min_length=10, max_length=200)


class TokenPairOut(BaseModel):
    """Tokens of a session."""

    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


class MeOut(BaseModel):
    """The principal a request acts as."""

    tenant_id: UUID
    principal_id: str
    type: PrincipalType
    partner_id: UUID | None
    scopes: list[str]
    roles: list[str]


class NewUserIn(_Strict):
    """A user to add to the caller's tenant."""

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=12, max_length=256)
    type: PrincipalType
    roles: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        min_length=1, max_length=10
    )
    partner_id: UUID | None = None


class UserOut(BaseModel):
    """A user, without the email (PII stays where it is needed)."""

    id: UUID
    type: PrincipalType
    roles: list[str]
    partner_id: UUID | None


class LimitIn(_Strict):
    """A key's own limit: a sustained rate with a burst, and an optional daily quota."""

    per_second: float = Field(gt=0, le=100_000)
    burst: int = Field(ge=1, le=1_000_000)
    per_day: int | None = Field(default=None, ge=1)


class LimitOut(BaseModel):
    """A key's own limit, when it has one."""

    per_second: float
    burst: int
    per_day: int | None


class IssueApiKeyIn(_Strict):
    """An API key to issue; `limit` (operator staff only) overrides the plan's."""

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=50)
    partner_id: UUID | None = None
    plan: str = Field(default="standard", max_length=40)
    limit: LimitIn | None = None
    expires_at: datetime | None = None


class ApiKeyOut(BaseModel):
    """An API key as listings show it: never its secret."""

    id: UUID
    name: str
    prefix: str
    partner_id: UUID | None
    scopes: list[str]
    plan: str
    limit: LimitOut | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    replaced_by: UUID | None
    last_used_at: datetime | None


class IssuedApiKeyOut(ApiKeyOut):
    """A new key with its full value, shown this once."""

    key: str


class RotatedApiKeyOut(IssuedApiKeyOut):
    """A successor key, and until when the key it replaces keeps working."""

    previous_key_valid_until: datetime
