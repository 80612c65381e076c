"""A tax id another partner holds, entered by a partner's own staff: kept contested, shown only to
the operator's staff, and never approved."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from mandi_errors import Conflict
from mandi_partners.domain import access
from mandi_partners.domain.partner import (
    TAX_ID_CONTESTED,
    Partner,
    PartnerChanges,
    PartnerStatus,
    PartnerType,
    Verification,
)
from mandi_partners.domain.tax_ids import TaxIdKind, parse_tax_id
from mandi_partners.service_layer.views import partner_view
from mandi_security.principal import Principal, PrincipalType

NOW = datetime(2026, 11, 22, tzinfo=UTC)
PAN = parse_tax_id(TaxIdKind.PAN, "IN", "AAPFU0939F")
GSTIN = parse_tax_id(TaxIdKind.GSTIN, "IN", "27AAPFU0939F1ZV")
OTHER_PAN = parse_tax_id(TaxIdKind.PAN, "IN", "AAACB1234C")


def _partner() -> Partner:
    return Partner(
        id=uuid4(),
        tenant_id=uuid4(),
        legal_name="Acme Agro Pvt Ltd",
        country="IN",
        types=frozenset({PartnerType.SELLER}),
        tax_ids=(PAN, GSTIN),
    )


def _principal(kind: PrincipalType, partner: Partner) -> Principal:
    partner_id = partner.id if kind is PrincipalType.EXTERNAL else None
    return Principal(partner.tenant_id, "someone", kind, partner_id, frozenset({"partners:*"}))


def _contested_under_review() -> Partner:
    partner = _partner()
    partner.contest(frozenset({PAN}))
    partner.submit()
    partner.record_verification(Verification.PASSED)
    return partner


def test_a_contested_tax_id_flags_the_partner_without_changing_its_version() -> None:
    partner = _partner()
    partner.contest(frozenset({PAN, OTHER_PAN}))  # only its own tax ids can be contested
    assert partner.contested_tax_ids == {PAN}
    assert partner.risk_flags == {TAX_ID_CONTESTED}
    assert partner.version == 1  # the amendment that found it counts once, as any other


def test_a_contested_application_is_not_approved_until_its_tax_ids_are_corrected() -> None:
    partner = _contested_under_review()
    with pytest.raises(Conflict, match="Another partner holds a tax id"):
        partner.approve(NOW, note="checked by hand")
    assert partner.status is PartnerStatus.UNDER_REVIEW
    partner.reject(NOW, "The PAN is another company's.")
    partner.revise()
    partner.amend(PartnerChanges(tax_ids=(OTHER_PAN,)))
    assert partner.contested_tax_ids == frozenset()
    assert TAX_ID_CONTESTED not in partner.risk_flags
    partner.submit()
    partner.record_verification(Verification.PASSED)
    partner.approve(NOW)
    assert partner.status is PartnerStatus.APPROVED


def test_the_flag_stays_while_the_contest_does() -> None:
    partner = _partner()
    partner.contest(frozenset({PAN}))
    partner.amend(PartnerChanges(risk_flags=frozenset({"watchlist"})))  # an operator's own flags
    assert partner.risk_flags == {"watchlist", TAX_ID_CONTESTED}
    partner.contest(frozenset())
    assert partner.risk_flags == {"watchlist"}


def test_only_the_operators_staff_learn_that_another_partner_holds_a_tax_id() -> None:
    partner = _partner()
    partner.contest(frozenset({PAN}))
    staff = _principal(PrincipalType.INTERNAL, partner)
    own_staff = _principal(PrincipalType.EXTERNAL, partner)
    assert access.learns_who_holds_tax_ids(staff)
    assert not access.learns_who_holds_tax_ids(own_staff)

    internal = partner_view(partner, staff).model_dump()
    external = partner_view(partner, own_staff).model_dump()
    assert [tax_id["contested"] for tax_id in internal["tax_ids"]] == [True, False]
    assert internal["risk_flags"] == [TAX_ID_CONTESTED]
    uncontested = _partner()
    uncontested.id, uncontested.tenant_id = partner.id, partner.tenant_id
    assert external == partner_view(uncontested, own_staff).model_dump()
