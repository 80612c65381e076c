"""Updating a partner's details, normalizing its contacts, and who may see and change what."""

from __future__ import annotations

from uuid import uuid4

import pytest

from mandi_errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mandi_partners.domain import access
from mandi_partners.domain.partner import (
    Contact,
    Location,
    Partner,
    PartnerChanges,
    PartnerType,
)
from mandi_partners.domain.tax_ids import TaxIdKind, parse_tax_id
from mandi_security.principal import Principal, PrincipalType

PAN = parse_tax_id(TaxIdKind.PAN, "IN", "AAPFU0939F")
OTHER_PAN = parse_tax_id(TaxIdKind.PAN, "IN", "AAACB1234C")
GSTIN = parse_tax_id(TaxIdKind.GSTIN, "IN", "27AAPFU0939F1ZV")


def _partner() -> Partner:
    return Partner(
        id=uuid4(),
        tenant_id=uuid4(),
        legal_name="Acme Agro Pvt Ltd",
        country="in",
        types=frozenset({PartnerType.SELLER}),
        tax_ids=(PAN,),
    )


def _principal(kind: PrincipalType, partner_id=None, scopes=("partners:*",)) -> Principal:
    return Principal(uuid4(), "someone", kind, partner_id, frozenset(scopes))


def test_contacts_are_normalized_so_their_indexes_match():
    contact = Contact(" Asha Rao ", email=" Asha@Example.IN ", phone="+91 98765-43210")
    assert (contact.name, contact.email, contact.phone) == (
        "Asha Rao",
        "asha@example.in",
        "+919876543210",
    )


@pytest.mark.parametrize(
    "fields",
    [{"email": "not-an-email"}, {"phone": "12"}, {"phone": "call me"}, {"name": "  "}],
)
def test_a_malformed_contact_is_refused_without_echoing_it(fields):
    with pytest.raises(InvalidInput) as refused:
        Contact(**({"name": "Asha"} | fields))
    echoed = [value for value in fields.values() if value.strip() in refused.value.detail]
    assert echoed in ([], ["  "])  # a blank name is "in" any text


def test_a_location_needs_an_address_and_a_country_code():
    with pytest.raises(InvalidInput):
        Location(label="Warehouse", address=" ", country="IN")
    with pytest.raises(InvalidInput):
        Location(label="Warehouse", address="Plot 4, APMC Yard", country="India")


def test_the_country_is_kept_as_its_upper_case_code():
    assert _partner().country == "IN"


def test_an_amendment_changes_the_partner_once_and_keeps_its_rules():
    partner = _partner()
    partner.amend(PartnerChanges(trade_name="Acme", tax_ids=(PAN, GSTIN)))
    assert (partner.trade_name, partner.tax_ids, partner.version) == ("Acme", (PAN, GSTIN), 2)
    with pytest.raises(InvalidInput, match="another PAN"):
        partner.amend(PartnerChanges(tax_ids=(OTHER_PAN, GSTIN)))
    assert partner.tax_ids == (PAN, GSTIN)  # a refused change leaves the partner as it was


def test_an_empty_amendment_is_refused():
    with pytest.raises(InvalidInput):
        _partner().amend(PartnerChanges())


def test_identity_is_fixed_once_submitted_but_contacts_may_change():
    partner = _partner()
    partner.submit()
    with pytest.raises(Conflict):
        partner.amend(PartnerChanges(legal_name="Someone Else Ltd"))
    partner.amend(PartnerChanges(contacts=(Contact("Asha Rao", phone="+919876543210"),)))
    assert partner.contacts[0].name == "Asha Rao"


def test_an_external_principal_sees_only_its_own_partner_and_never_internal_fields():
    own, other = uuid4(), uuid4()
    partner_staff = _principal(PrincipalType.EXTERNAL, own)
    access.require_visible(partner_staff, own)
    with pytest.raises(NotFound):
        access.require_visible(partner_staff, other)
    assert not access.sees_internal_fields(partner_staff)
    assert access.sees_internal_fields(_principal(PrincipalType.INTERNAL))


def test_only_operator_staff_register_review_and_set_groups_and_risk_flags():
    own = uuid4()
    partner_staff = _principal(PrincipalType.EXTERNAL, own)
    with pytest.raises(PermissionDenied):
        access.require_internal(partner_staff, "register partners")
    with pytest.raises(PermissionDenied):
        access.require_may_amend(partner_staff, own, PartnerChanges(group_id=uuid4()))
    with pytest.raises(PermissionDenied):
        access.require_may_amend(partner_staff, own, PartnerChanges(risk_flags=frozenset({"x"})))
    access.require_may_amend(partner_staff, own, PartnerChanges(trade_name="Acme"))


def test_a_missing_scope_is_refused_even_for_operator_staff():
    reader = _principal(PrincipalType.INTERNAL, scopes=("partners:read",))
    access.require_visible(reader, uuid4())
    with pytest.raises(PermissionDenied):
        access.require_internal(reader, "register partners")
