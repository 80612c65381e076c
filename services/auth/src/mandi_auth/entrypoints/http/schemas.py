"""Request and response bodies of the auth service's HTTP API.

What a body may hold is declared here as the service checks it, so the OpenAPI document is the
contract: text takes no control character, emails and roles have their shapes, and a user is
an internal one (operator staff, no partner) or an external one (a partner's, with its id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mandi_auth.service_layer.accounts import CreateUser
from mandi_runtime.text import email_address, no_controls, single_line, visible_ascii
from mandi_security.principal import PrincipalType

__all__ = [
    "ApiKeyOut",
    "ExternalUserIn",
    "InternalUserIn",
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

    tenant: Annotated[str, single_line(40)]
    email: Annotated[str, email_address()]
    password: Annotated[str, no_controls(256)]


class RefreshIn(_Strict):
    """A refresh token, to renew or to end a session."""

    refresh_token: Annotated[str, visible_ascii(200, min_length=10)]


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


class _NewUser(_Strict):
    email: Annotated[str, email_address()]
    password: Annotated[str, no_controls(256, min_length=12)]


class InternalUserIn(_NewUser):
    """Operator staff: roles among admin, operator, auditor and risk_officer; no partner."""

    type: Literal[PrincipalType.INTERNAL]
    roles: list[Literal["admin", "operator", "auditor", "risk_officer"]] = Field(
        min_length=1, max_length=4
    )

    def to_command(self) -> CreateUser:
        """The use case's command."""
        return CreateUser(self.email, self.password, self.type, frozenset(self.roles))


class ExternalUserIn(_NewUser):
    """A partner's staff: roles among partner_admin and partner_user, for that partner."""

    type: Literal[PrincipalType.EXTERNAL]
    roles: list[Literal["partner_admin", "partner_user"]] = Field(min_length=1, max_length=2)
    partner_id: UUID

    def to_command(self) -> CreateUser:
        """The use case's command."""
        roles = frozenset(self.roles)
        return CreateUser(self.email, self.password, self.type, roles, self.partner_id)


NewUserIn = Annotated[InternalUserIn | ExternalUserIn, Field(discriminator="type")]


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

    name: Annotated[str, single_line(100)]
    scopes: list[Scope] = Field(min_length=1, max_length=50)
    partner_id: UUID | None = None
    # The deployment's plans are listed in its OpenAPI document (an enum), by the service.
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
