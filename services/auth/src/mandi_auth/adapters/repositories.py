"""PostgreSQL repositories: rows of the tables in, domain objects out."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from mandi_auth.adapters.tables import (
    api_keys,
    credentials,
    refresh_tokens,
    signing_keys,
    tenants,
    users,
)
from mandi_auth.domain.api_keys import ApiKey
from mandi_auth.domain.identity import Tenant, TenantStatus, User, UserStatus
from mandi_auth.domain.limits import Limit
from mandi_auth.domain.sessions import RefreshToken
from mandi_auth.domain.signing_keys import SigningKey
from mandi_db import SealedColumn, SqlRepository
from mandi_security.fields import BlindIndex, FieldCipher, SealedField
from mandi_security.principal import PrincipalType

__all__ = [
    "EmailProtection",
    "SqlApiKeys",
    "SqlCredentials",
    "SqlRefreshTokens",
    "SqlSigningKeys",
    "SqlTenants",
    "SqlUsers",
]

_SEALED_EMAIL = SealedColumn(users.c.email_sealed, "users.email")
_PARTNER_KEYS_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtextextended('mandi.auth.api_keys:' || :partner, 0))"
)
# Serializes signing-key rotation across replicas (a transaction-level advisory lock).
_ROTATION_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtextextended('mandi.auth.signing_keys', 0))"
)


def _tenant(row: Any) -> Tenant | None:
    if row is None:
        return None
    return Tenant(id=row.id, slug=row.slug, name=row.name, status=TenantStatus(row.status))


class SqlTenants(SqlRepository):
    """Tenants by slug or id."""

    async def by_slug(self, slug: str) -> Tenant | None:
        """The tenant with this slug."""
        return _tenant((await self._execute(select(tenants).where(tenants.c.slug == slug))).first())

    async def get(self, tenant_id: UUID) -> Tenant | None:
        """The tenant with this id."""
        query = select(tenants).where(tenants.c.id == tenant_id)
        return _tenant((await self._execute(query)).first())

    async def save(self, tenant: Tenant) -> None:
        """Stores what changes in a tenant's life: its status."""
        query = update(tenants).where(tenants.c.id == tenant.id).values(status=tenant.status.value)
        await self._execute(query)

    async def add(self, tenant: Tenant) -> None:
        """Stores a new tenant."""
        values = {
            "id": tenant.id,
            "slug": tenant.slug,
            "name": tenant.name,
            "status": tenant.status.value,
        }
        await self._execute(insert(tenants).values(values))

    async def all(self) -> list[UUID]:
        """Every tenant's id, for jobs that visit each tenant in turn."""
        return list((await self._execute(select(tenants.c.id).order_by(tenants.c.id))).scalars())


class EmailProtection:
    """Seals emails and indexes them, so the table never holds one in clear.

    A sealed email is bound to its user's row and tenant: copied into another user's row, or
    another tenant's, it does not open.
    """

    def __init__(self, cipher: FieldCipher, index: BlindIndex) -> None:
        self.cipher, self.index = cipher, index

    def seal(self, email: str, *, tenant_id: UUID, user_id: UUID) -> bytes:
        """The ciphertext stored for a user's email."""
        return self.cipher.encrypt(email, context=_email_field(tenant_id, user_id))

    def open(self, sealed: bytes, *, tenant_id: UUID, user_id: UUID) -> str:
        """The email a user's ciphertext holds; raises if it was made for another user."""
        return self.cipher.decrypt(sealed, context=_email_field(tenant_id, user_id))


def _email_field(tenant_id: UUID, user_id: UUID) -> SealedField:
    return _SEALED_EMAIL.of(tenant_id, user_id)


class SqlUsers(SqlRepository):
    """Users of the transaction's tenant (row-level security does the filtering)."""

    def __init__(self, session: AsyncSession, emails: EmailProtection) -> None:
        super().__init__(session)
        self._emails = emails

    async def by_email(self, email: str) -> User | None:
        """The user with this (normalized) email."""
        query = select(users).where(users.c.email_index == self._emails.index(email))
        return self._user((await self._execute(query)).first())

    async def get(self, user_id: UUID) -> User | None:
        """The user with this id."""
        return self._user((await self._execute(select(users).where(users.c.id == user_id))).first())

    async def add(self, user: User) -> None:
        """Stores a new user; a taken email fails on the unique index."""
        values = {
            "id": user.id,
            "tenant_id": user.tenant_id,
            "email_index": self._emails.index(user.email),
            "email_sealed": self._emails.seal(
                user.email, tenant_id=user.tenant_id, user_id=user.id
            ),
            "type": user.type.value,
            "partner_id": user.partner_id,
            "roles": sorted(user.roles),
            "password_hash": user.password_hash,
            "status": user.status.value,
        }
        await self._execute(insert(users).values(values))

    async def reseal(self, limit: int) -> int:
        """Re-encrypts up to `limit` emails sealed with an older key or format; how many were."""
        return await self._reseal_stale(self._emails.cipher, users, [_SEALED_EMAIL], limit)

    def _user(self, row: Any) -> User | None:
        if row is None:
            return None
        return User(
            id=row.id,
            tenant_id=row.tenant_id,
            email=self._emails.open(row.email_sealed, tenant_id=row.tenant_id, user_id=row.id),
            type=PrincipalType(row.type),
            roles=frozenset(row.roles),
            password_hash=row.password_hash,
            partner_id=row.partner_id,
            status=UserStatus(row.status),
            created_at=row.created_at,
        )


class SqlCredentials(SqlRepository):
    """The credential index: which tenant an API key or refresh token belongs to."""

    async def tenant_of(self, credential_id: UUID) -> UUID | None:
        """The tenant of a credential id."""
        result = await self._execute(
            select(credentials.c.tenant_id).where(credentials.c.id == credential_id)
        )
        row = result.first()
        return row[0] if row else None

    async def add(self, credential_id: UUID, tenant_id: UUID) -> None:
        """Records a new credential's tenant."""
        await self._execute(insert(credentials).values(id=credential_id, tenant_id=tenant_id))


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        partner_id=row.partner_id,
        name=row.name,
        scopes=frozenset(row.scopes),
        secret_hash=row.secret_hash,
        visible_prefix=row.visible_prefix,
        created_by=row.created_by,
        created_at=row.created_at,
        plan=row.plan,
        limit=_own_limit(row),
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        replaced_by=row.replaced_by,
    )


def _own_limit(row: Any) -> Limit | None:
    if row.rate_per_second is None:
        return None
    return Limit(row.rate_per_second, row.rate_burst, row.quota_per_day)


def _limit_columns(limit: Limit | None) -> dict[str, float | int | None]:
    return {
        "rate_per_second": limit.per_second if limit else None,
        "rate_burst": limit.burst if limit else None,
        "quota_per_day": limit.per_day if limit else None,
    }


class SqlApiKeys(SqlRepository):
    """API keys of the transaction's tenant."""

    async def get(self, key_id: UUID) -> ApiKey | None:
        """The key with this id."""
        row = (await self._execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        return _api_key(row) if row else None

    async def add(self, key: ApiKey) -> None:
        """Stores a new key (its secret's hash only)."""
        values = {
            "id": key.id,
            "tenant_id": key.tenant_id,
            "partner_id": key.partner_id,
            "name": key.name,
            "scopes": sorted(key.scopes),
            "secret_hash": key.secret_hash,
            "visible_prefix": key.visible_prefix,
            "plan": key.plan,
            **_limit_columns(key.limit),
            "created_by": key.created_by,
            "created_at": key.created_at,
            "expires_at": key.expires_at,
            "revoked_at": key.revoked_at,
            "replaced_by": key.replaced_by,
        }
        await self._execute(insert(api_keys).values(values))

    async def save(self, key: ApiKey) -> None:
        """Stores what changes in a key's life: its end, revocation and successor."""
        changes = {
            "expires_at": key.expires_at,
            "revoked_at": key.revoked_at,
            "replaced_by": key.replaced_by,
        }
        await self._execute(update(api_keys).where(api_keys.c.id == key.id).values(changes))

    async def lock_partner(self, partner_id: UUID) -> None:
        """Holds the partner's key lock until the transaction ends (issues queue behind it)."""
        await self._execute(_PARTNER_KEYS_LOCK.bindparams(partner=str(partner_id)))

    async def count_valid(self, partner_id: UUID, moment: datetime) -> int:
        """How many of the partner's keys are neither revoked nor expired at `moment`."""
        query = select(func.count()).where(
            api_keys.c.partner_id == partner_id,
            api_keys.c.revoked_at.is_(None),
            or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > moment),
        )
        return int((await self._execute(query)).scalar_one())

    async def of_partner(self, partner_id: UUID | None) -> list[ApiKey]:
        """A partner's keys, or every key of the tenant when no partner is named."""
        query = select(api_keys).order_by(api_keys.c.created_at)
        if partner_id is not None:
            query = query.where(api_keys.c.partner_id == partner_id)
        return [_api_key(row) for row in await self._execute(query)]


def _refresh_token(row: Any) -> RefreshToken:
    return RefreshToken(
        id=row.id,
        family_id=row.family_id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )


class SqlRefreshTokens(SqlRepository):
    """Refresh tokens of the transaction's tenant."""

    async def get(
        self, token_id: UUID, *, for_update: bool = False
    ) -> tuple[RefreshToken, str] | None:
        """A token and its stored hash, locked for the transaction when asked."""
        query = select(refresh_tokens).where(refresh_tokens.c.id == token_id)
        row = (await self._execute(query.with_for_update() if for_update else query)).first()
        return (_refresh_token(row), row.token_hash) if row else None

    async def add(self, token: RefreshToken, token_hash: str) -> None:
        """Stores a new token (its hash only)."""
        values = {
            "id": token.id,
            "family_id": token.family_id,
            "tenant_id": token.tenant_id,
            "user_id": token.user_id,
            "token_hash": token_hash,
            "issued_at": token.issued_at,
            "expires_at": token.expires_at,
        }
        await self._execute(insert(refresh_tokens).values(values))

    async def save(self, token: RefreshToken) -> None:
        """Stores a token's use or revocation."""
        changes = {"used_at": token.used_at, "revoked_at": token.revoked_at}
        await self._execute(
            update(refresh_tokens).where(refresh_tokens.c.id == token.id).values(changes)
        )

    async def revoke_all(self, moment: datetime) -> list[UUID]:
        """Revokes every token of the tenant not yet revoked; the sessions that had one."""
        query = (
            update(refresh_tokens)
            .where(refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=func.least(moment, func.now()))
            .returning(refresh_tokens.c.family_id)
        )
        return sorted(set((await self._execute(query)).scalars()))

    async def revoke_family(self, family_id: UUID, moment: datetime) -> None:
        """Revokes every token of a session not yet revoked."""
        query = (
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=func.least(moment, func.now()))
        )
        await self._execute(query)


class SqlSigningKeys(SqlRepository):
    """The service's signing keys."""

    async def lock(self) -> None:
        """Holds the rotation lock until the transaction ends."""
        await self._execute(_ROTATION_LOCK)

    async def all(self) -> list[tuple[SigningKey, bytes]]:
        """Every key with its sealed private half, oldest first."""
        rows = await self._execute(select(signing_keys).order_by(signing_keys.c.created_at))
        return [
            (
                SigningKey(row.kid, row.public_key, row.created_at, row.activates_at),
                row.sealed_private_key,
            )
            for row in rows
        ]

    async def add(self, key: SigningKey, sealed_private_key: bytes) -> None:
        """Stores a new key."""
        values = {
            "kid": key.kid,
            "public_key": key.public_key,
            "sealed_private_key": sealed_private_key,
            "created_at": key.created_at,
            "activates_at": key.activates_at,
        }
        await self._execute(insert(signing_keys).values(values))

    async def replace_sealed(self, kid: str, sealed_private_key: bytes) -> None:
        """Stores a key's private half sealed anew (after the key-encryption key rotated)."""
        query = update(signing_keys).where(signing_keys.c.kid == kid)
        await self._execute(query.values(sealed_private_key=sealed_private_key))
