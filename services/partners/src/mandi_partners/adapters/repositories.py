"""PostgreSQL repositories: domain partners in, rows with sealed values out, and back."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    ScalarSelect,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from mandi_db import PreparedQuery, SealedColumn, SqlRepository, StatementSource
from mandi_errors import Conflict
from mandi_partners.adapters.protection import Column, PiiProtection, answer_field, fingerprint
from mandi_partners.adapters.tables import (
    contacts,
    locations,
    partners,
    staff,
    tax_ids,
)
from mandi_partners.domain.partner import (
    Contact,
    Location,
    Partner,
    PartnerStatus,
    PartnerType,
    Verification,
)
from mandi_partners.domain.staff import StaffMember
from mandi_partners.domain.tax_ids import TaxId, TaxIdKind
from mandi_partners.service_layer.unit_of_work import PageRequest, PartnerFilter
from mandi_rules import InsiderLinks
from mandi_security.fields import SealedField

__all__ = ["SqlPartners", "SqlStaff"]

_WAITING = (Verification.NOT_STARTED.value, Verification.PARKED.value)
_DUPLICATE_TAX_ID = "tax_ids_unique"
_SEALED_COLUMNS: dict[Table, list[SealedColumn]] = {
    tax_ids: [SealedColumn(tax_ids.c.value_sealed, Column.TAX_ID)],
    contacts: [
        SealedColumn(contacts.c.name_sealed, Column.NAME),
        SealedColumn(contacts.c.email_sealed, Column.EMAIL),
        SealedColumn(contacts.c.phone_sealed, Column.PHONE),
    ],
}
# Stored idempotent answers (mandi_db's table) hold the sealed answer, in base64, under "sealed"
# (see SealedIdempotency). Rows are locked, so an expired key reclaimed meanwhile waits.
_STALE_ANSWERS = text(
    """
    SELECT tenant_id, principal_id, key, response ->> 'sealed' AS sealed FROM idempotency_keys
    WHERE substr(decode(response ->> 'sealed', 'base64'), 1, :length) <> :header
    ORDER BY principal_id, key LIMIT :limit FOR UPDATE
    """
)
_RESEAL_ANSWER = text(
    """
    UPDATE idempotency_keys
    SET response = jsonb_set(response, '{sealed}', to_jsonb(CAST(:sealed AS text)))
    WHERE tenant_id = :tenant_id AND principal_id = :principal_id AND key = :key
    """
)


class SqlStaff(SqlRepository):
    """Users acting for the tenant's partners."""

    async def link(self, member: StaffMember) -> bool:
        """Links a user to its partner; False when it was linked already."""
        values = {
            "user_id": member.user_id,
            "tenant_id": member.tenant_id,
            "partner_id": member.partner_id,
            "roles": list(member.roles),
            "linked_at": member.linked_at,
        }
        query = pg_insert(staff).values(values).on_conflict_do_nothing().returning(staff.c.user_id)
        return (await self._execute(query)).first() is not None

    async def of_partner(self, partner_id: UUID) -> list[StaffMember]:
        """The partner's staff, first linked first."""
        query = (
            select(staff)
            .where(staff.c.partner_id == partner_id)
            .order_by(staff.c.linked_at, staff.c.user_id)
        )
        return [
            StaffMember(
                tenant_id=row.tenant_id,
                partner_id=row.partner_id,
                user_id=row.user_id,
                roles=tuple(row.roles),
                linked_at=row.linked_at,
            )
            for row in await self._execute(query)
        ]


class SqlPartners(SqlRepository):
    """Partners of the transaction's tenant (row-level security does the filtering)."""

    def __init__(self, source: StatementSource, protection: PiiProtection) -> None:
        super().__init__(source)
        self._pii = protection
        # The children each partner had when read or written in this transaction: a save
        # rewrites only the child tables that changed since (a decision rewrites none).
        self._stored: dict[UUID, dict[Table, object]] = {}

    async def get(self, partner_id: UUID, *, for_update: bool = False) -> Partner | None:
        """The partner, locked until the transaction ends when it is to be changed."""
        query = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        rows = await self._fetch(query, {"partner_id": partner_id})
        if not rows:
            return None
        partner = self._assembled(rows[0])
        self._stored[partner.id] = _children_of(partner)
        return partner

    async def add(self, partner: Partner) -> None:
        """Stores a new partner; a tax id another partner holds is a Conflict."""
        await self._execute(insert(partners).values(self._partner_values(partner)))
        await self._write_children(partner, (tax_ids, contacts, locations))
        self._stored[partner.id] = _children_of(partner)

    async def save(self, partner: Partner) -> None:
        """Stores a changed partner (its row is locked by `get(..., for_update=True)`)."""
        values = self._partner_values(partner)
        changes = {f"new_{name}": values[name] for name in _CHANGEABLE}
        await self._fetch(_UPDATE, {"partner_id": partner.id, **changes})
        stored, now = self._stored.get(partner.id, {}), _children_of(partner)
        changed = [table for table, children in now.items() if stored.get(table) != children]
        for table in changed:
            await self._execute(delete(table).where(table.c.partner_id == partner.id))
        await self._write_children(partner, changed)
        self._stored[partner.id] = now

    def links_of(self, partner: Partner) -> InsiderLinks:
        """The partner's group and fingerprints, from the partner in hand (no round trip)."""
        people = [_Person(self._pii, contact) for contact in partner.contacts]
        return InsiderLinks(
            partner_id=partner.id,
            group_id=partner.group_id,
            director_fingerprints=_fingerprints(person for person in people if person.is_director),
            contact_fingerprints=_fingerprints(people),
        )

    async def held_elsewhere(self, partner_id: UUID, held: tuple[TaxId, ...]) -> frozenset[TaxId]:
        """Which of these tax ids another partner holds (uncontested), by their blind indexes."""
        if not held:
            return frozenset()
        by_key = {self._tax_key_columns(tax_id): tax_id for tax_id in held}
        columns = (tax_ids.c.kind, tax_ids.c.country, tax_ids.c.value_index)
        query = select(*columns).where(
            tuple_(*columns).in_(list(by_key)),
            tax_ids.c.partner_id != partner_id,
            tax_ids.c.contested.is_(False),
        )
        rows = await self._execute(query)
        return frozenset(by_key[row.kind, row.country, bytes(row.value_index)] for row in rows)

    async def page(self, criteria: PartnerFilter, page: PageRequest) -> list[Partner]:
        """Partners matching the filter, oldest first, after the page's cursor."""
        query = _WITH_CHILDREN.where(*self._conditions(criteria))
        if page.after is not None:
            query = query.where(tuple_(partners.c.created_at, partners.c.id) > tuple_(*page.after))
        query = query.order_by(partners.c.created_at, partners.c.id).limit(page.limit)
        return [self._assembled(row) for row in await self._execute(query)]

    async def insider_links(self, partner_id: UUID) -> InsiderLinks | None:
        """The partner's group and the fingerprints of its directors and other contacts."""
        row = (
            await self._execute(select(partners.c.group_id).where(partners.c.id == partner_id))
        ).first()
        if row is None:
            return None
        query = select(contacts).where(contacts.c.partner_id == partner_id)
        people = list(await self._execute(query))
        return InsiderLinks(
            partner_id=partner_id,
            group_id=row.group_id,
            director_fingerprints=_fingerprints(person for person in people if person.is_director),
            contact_fingerprints=_fingerprints(people),
        )

    async def awaiting_verification(self, limit: int) -> list[UUID]:
        """Partners under review whose verification never ran or was parked, oldest first;
        those another process is asking the verifier about now are left out."""
        query = (
            select(partners.c.id)
            .where(*_waiting_and_free())
            .order_by(partners.c.updated_at)
            .limit(limit)
        )
        return list((await self._execute(query)).scalars())

    async def claim_verification(self, partner_id: UUID, lease: timedelta) -> bool:
        """Takes the lease on asking the verifier about a waiting application, for `lease`;
        False when it does not wait or another process holds the lease."""
        query = (
            update(partners)
            .where(partners.c.id == partner_id, *_waiting_and_free())
            .values(verification_leased_until=func.now() + lease)
            .returning(partners.c.id)
        )
        return (await self._execute(query)).first() is not None

    async def release_verification(self, partner_id: UUID) -> None:
        """Gives the lease up: the answer is recorded, or the call failed and may be tried."""
        query = update(partners).where(partners.c.id == partner_id)
        await self._execute(query.values(verification_leased_until=None))

    async def reseal(self, limit: int) -> int:
        """Re-encrypts up to `limit` of the tenant's rows sealed with an older key or format.

        Covers tax ids, contacts and the stored idempotent answers (which show both in full).
        Answers how many rows were re-encrypted: fewer than `limit` means none is left.
        """
        done = 0
        for table, columns in _SEALED_COLUMNS.items():
            done += await self._reseal_stale(self._pii.cipher, table, columns, limit - done)
        return done + await self._reseal_answers(limit - done)

    async def _reseal_answers(self, limit: int) -> int:
        if limit <= 0:
            return 0
        header = self._pii.cipher.current_header
        found = {"length": len(header), "header": header, "limit": limit}
        rows = list(await self._execute(_STALE_ANSWERS.bindparams(**found)))
        for row in rows:
            field = answer_field(row.tenant_id, row.principal_id, row.key)
            resealed = self._pii.cipher.reseal(base64.b64decode(row.sealed), context=field)
            names = {"tenant_id": row.tenant_id, "principal_id": row.principal_id, "key": row.key}
            sealed = base64.b64encode(resealed).decode()
            await self._execute(_RESEAL_ANSWER.bindparams(**names, sealed=sealed))
        return len(rows)

    def _conditions(self, criteria: PartnerFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if criteria.status is not None:
            conditions.append(partners.c.status == criteria.status.value)
        if criteria.partner_type is not None:
            conditions.append(partners.c.types.any(criteria.partner_type.value))
        if criteria.country is not None:
            conditions.append(partners.c.country == criteria.country)
        if criteria.group_id is not None:
            conditions.append(partners.c.group_id == criteria.group_id)
        if criteria.name_prefix:
            prefix = _escaped_like(criteria.name_prefix) + "%"
            conditions.append(
                or_(
                    partners.c.legal_name.ilike(prefix, escape="\\"),
                    partners.c.trade_name.ilike(prefix, escape="\\"),
                )
            )
        if criteria.tax_id is not None:
            kind, country, index = self._tax_key_columns(criteria.tax_id)
            holders = select(tax_ids.c.partner_id).where(
                and_(
                    tax_ids.c.kind == kind,
                    tax_ids.c.country == country,
                    tax_ids.c.value_index == index,
                )
            )
            conditions.append(partners.c.id.in_(holders))
        if criteria.only_partner is not None:
            conditions.append(partners.c.id == criteria.only_partner)
        return conditions

    def _tax_key_columns(self, tax_id: TaxId) -> tuple[str, str, bytes]:
        return tax_id.kind.value, tax_id.country, self._pii.tax_id_key(tax_id)

    @staticmethod
    def _partner_values(partner: Partner) -> dict[str, Any]:
        return {
            "id": partner.id,
            "tenant_id": partner.tenant_id,
            "legal_name": partner.legal_name,
            "trade_name": partner.trade_name,
            "country": partner.country,
            "types": sorted(kind.value for kind in partner.types),
            "group_id": partner.group_id,
            "status": partner.status.value,
            "verification": partner.verification.value,
            "review_notes": list(partner.review_notes),
            "risk_flags": sorted(partner.risk_flags),
            "version": partner.version,
            "created_at": partner.created_at,
            "updated_at": partner.updated_at,
            "decided_at": partner.decided_at,
        }

    async def _write_children(self, partner: Partner, tables: Sequence[Table]) -> None:
        # Only the tables asked for: each row of the others would be sealed for nothing.
        for table in tables:
            values = self._child_rows(partner, table)
            if values:
                await self._insert_children(table, values)

    def _child_rows(self, partner: Partner, table: Table) -> list[dict[str, Any]]:
        tenant_id = partner.tenant_id
        owner = {"tenant_id": tenant_id, "partner_id": partner.id}
        if table is tax_ids:
            return [
                {
                    **owner,
                    **self._tax_id_values(tax_id, tenant_id),
                    "position": position,
                    "contested": tax_id in partner.contested_tax_ids,
                }
                for position, tax_id in enumerate(partner.tax_ids)
            ]
        if table is contacts:
            return [
                {**owner, **self._contact_values(contact, tenant_id), "position": position}
                for position, contact in enumerate(partner.contacts)
            ]
        return [
            {**owner, **location.__dict__, "id": uuid4(), "position": position}
            for position, location in enumerate(partner.locations)
        ]

    async def _insert_children(self, table: Table, values: list[dict[str, Any]]) -> None:
        try:
            async with self._session.begin_nested():  # a duplicate must not end the transaction
                await self._execute(insert(table).values(values))
        except IntegrityError as error:
            if _DUPLICATE_TAX_ID in str(error.orig):
                raise Conflict("Another partner is registered with this tax id.") from None
            raise

    def _tax_id_values(self, tax_id: TaxId, tenant_id: UUID) -> dict[str, Any]:
        kind, country, index = self._tax_key_columns(tax_id)
        row_id = uuid4()
        return {
            "id": row_id,
            "kind": kind,
            "country": country,
            "value_index": index,
            "value_sealed": self._pii.seal(
                tax_id.value, SealedField.of(Column.TAX_ID, tenant_id, row_id)
            ),
        }

    def _contact_values(self, contact: Contact, tenant_id: UUID) -> dict[str, Any]:
        row_id = uuid4()

        def field(column: str) -> SealedField:
            return SealedField.of(column, tenant_id, row_id)

        return {
            "id": row_id,
            "name_sealed": self._pii.seal(contact.name, field(Column.NAME)),
            "email_sealed": self._pii.seal_optional(contact.email, field(Column.EMAIL)),
            "email_index": self._pii.email_key(contact.email),
            "phone_sealed": self._pii.seal_optional(contact.phone, field(Column.PHONE)),
            "phone_index": self._pii.phone_key(contact.phone),
            "is_director": contact.is_director,
        }

    def _assembled(self, row: Any) -> Partner:
        tax_id_rows = _children(row.tax_ids_json)
        held = tuple(self._tax_id(child) for child in tax_id_rows)
        return self._partner(
            row,
            held,
            tuple(self._contact(child) for child in _children(row.contacts_json)),
            tuple(_location(child) for child in _children(row.locations_json)),
            contested=frozenset(
                tax_id for tax_id, child in zip(held, tax_id_rows, strict=True) if child.contested
            ),
        )

    @staticmethod
    def _partner(
        row: Any,
        held: tuple[TaxId, ...],
        people: tuple[Contact, ...],
        places: tuple[Location, ...],
        *,
        contested: frozenset[TaxId],
    ) -> Partner:
        return Partner(
            id=row.id,
            tenant_id=row.tenant_id,
            legal_name=row.legal_name,
            trade_name=row.trade_name,
            country=row.country,
            types=frozenset(PartnerType(kind) for kind in row.types),
            tax_ids=held,
            contacts=people,
            locations=places,
            group_id=row.group_id,
            status=PartnerStatus(row.status),
            verification=Verification(row.verification),
            review_notes=list(row.review_notes),
            risk_flags=frozenset(row.risk_flags),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            decided_at=row.decided_at,
            contested_tax_ids=contested,
        )

    def _tax_id(self, row: Any) -> TaxId:
        # Stored values were validated when they came in: they are rebuilt, not re-parsed.
        value = self._pii.open(
            row.value_sealed, SealedField.of(Column.TAX_ID, row.tenant_id, row.id)
        )
        return TaxId(TaxIdKind(row.kind), row.country, value)

    def _contact(self, row: Any) -> Contact:
        def field(column: str) -> SealedField:
            return SealedField.of(column, row.tenant_id, row.id)

        return Contact(
            name=self._pii.open(row.name_sealed, field(Column.NAME)),
            email=self._pii.open_optional(row.email_sealed, field(Column.EMAIL)),
            phone=self._pii.open_optional(row.phone_sealed, field(Column.PHONE)),
            is_director=row.is_director,
        )


def _waiting_and_free() -> list[ColumnElement[bool]]:
    lease = partners.c.verification_leased_until
    return [
        partners.c.status == PartnerStatus.UNDER_REVIEW.value,
        partners.c.verification.in_(_WAITING),
        or_(lease.is_(None), lease < func.now()),
    ]


def _location(row: Any) -> Location:
    return Location(
        label=row.label,
        address=row.address,
        country=row.country,
        latitude=row.latitude,
        longitude=row.longitude,
        place_id=row.place_id,
    )


def _children_of(partner: Partner) -> dict[Table, object]:
    return {
        tax_ids: (partner.tax_ids, partner.contested_tax_ids),
        contacts: partner.contacts,
        locations: partner.locations,
    }


class _Person:
    """A contact as the insider-trading rule sees it: the blind indexes of its ways."""

    def __init__(self, protection: PiiProtection, contact: Contact) -> None:
        self.is_director = contact.is_director
        self.email_index = protection.email_key(contact.email)
        self.phone_index = protection.phone_key(contact.phone)


def _fingerprints(people: Iterable[Any]) -> frozenset[str]:
    prints: set[str] = set()
    for person in people:
        if person.email_index is not None:
            prints.add(fingerprint("email", person.email_index))
        if person.phone_index is not None:
            prints.add(fingerprint("phone", person.phone_index))
    return frozenset(prints)


def _escaped_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _children_json(table: Table, *names: str) -> ScalarSelect[Any]:
    """A partner's rows of a child table, in order, as one JSON array (bytes as hex)."""
    fields: list[Any] = []
    for name in ("id", "tenant_id", *names):
        column = table.c[name]
        value = func.encode(column, "hex") if isinstance(column.type, LargeBinary) else column
        fields += [literal(name), value]
    rows = func.json_agg(aggregate_order_by(func.json_build_object(*fields), table.c.position))
    return (
        select(func.coalesce(rows, literal_column("'[]'::json")))
        .where(table.c.partner_id == partners.c.id)
        .scalar_subquery()
    )


# A partner and its children in one statement: one round trip for a read, however many children.
_WITH_CHILDREN = select(
    partners,
    _children_json(tax_ids, "kind", "country", "value_sealed", "contested").label("tax_ids_json"),
    _children_json(contacts, "name_sealed", "email_sealed", "phone_sealed", "is_director").label(
        "contacts_json"
    ),
    _children_json(
        locations, "label", "address", "country", "latitude", "longitude", "place_id"
    ).label("locations_json"),
)
_BY_ID_STATEMENT = _WITH_CHILDREN.where(partners.c.id == bindparam("partner_id"))
_BY_ID = PreparedQuery(_BY_ID_STATEMENT)
# FOR UPDATE OF partners: its children are read, not locked (they change with it).
_BY_ID_FOR_UPDATE = PreparedQuery(_BY_ID_STATEMENT.with_for_update(of=partners))
_SEALED = frozenset({"value_sealed", "name_sealed", "email_sealed", "phone_sealed"})
# The columns a change of the partner may touch (verification leases are set apart).
_CHANGEABLE = (
    *("legal_name", "trade_name", "country", "types", "group_id", "status", "verification"),
    *("review_notes", "risk_flags", "version", "updated_at", "decided_at"),
)
_UPDATE = PreparedQuery(
    update(partners)
    .where(partners.c.id == bindparam("partner_id"))
    .values({name: bindparam(f"new_{name}") for name in _CHANGEABLE})
)


def _children(encoded: str | list[dict[str, Any]]) -> list[SimpleNamespace]:
    """The child rows `_children_json` aggregated, with their ids and sealed bytes restored."""
    rows = json.loads(encoded) if isinstance(encoded, str) else encoded
    return [SimpleNamespace(**_restored(row)) for row in rows]


def _restored(row: dict[str, Any]) -> dict[str, Any]:
    restored = dict(row, id=UUID(row["id"]), tenant_id=UUID(row["tenant_id"]))
    for name in _SEALED & row.keys():
        if row[name] is not None:
            restored[name] = bytes.fromhex(row[name])
    return restored
