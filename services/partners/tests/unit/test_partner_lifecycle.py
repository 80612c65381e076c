"""A partner's onboarding: submission, verification, decisions, suspension; and its own data."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from mandi_errors import Conflict, InvalidInput
from mandi_partners.domain.partner import (
    Location,
    Partner,
    PartnerStatus,
    PartnerType,
    Verification,
)
from mandi_partners.domain.tax_ids import TaxIdKind, parse_tax_id

NOW = datetime(2026, 11, 22, tzinfo=UTC)
GSTIN = parse_tax_id(TaxIdKind.GSTIN, "IN", "27AAPFU0939F1ZV")
PAN = parse_tax_id(TaxIdKind.PAN, "IN", "AAPFU0939F")


def _partner(**changes):
    fields = {
        "id": uuid4(),
        "tenant_id": uuid4(),
        "legal_name": "Acme Agro Pvt Ltd",
        "country": "IN",
        "types": frozenset({PartnerType.SELLER}),
        "tax_ids": (PAN, GSTIN),
    }
    return Partner(**(fields | changes))


def _under_review(outcome=Verification.PASSED):
    partner = _partner()
    partner.submit()
    partner.record_verification(outcome)
    return partner


def test_a_verified_application_is_approved_and_may_trade():
    partner = _under_review()
    assert not partner.may_trade
    partner.approve(NOW)
    assert partner.status is PartnerStatus.APPROVED
    assert partner.may_trade
    assert partner.decided_at == NOW


def test_a_parked_application_is_approved_only_with_a_note_of_the_manual_check():
    partner = _under_review(Verification.PARKED)
    with pytest.raises(InvalidInput, match="by hand"):
        partner.approve(NOW)
    partner.approve(NOW, note="GSTIN checked on the portal by the reviewer")
    assert partner.review_notes == ["GSTIN checked on the portal by the reviewer"]


def test_a_failed_verification_can_only_be_rejected_then_revised_and_resubmitted():
    partner = _under_review(Verification.FAILED)
    with pytest.raises(Conflict):
        partner.approve(NOW, note="looks fine")
    partner.reject(NOW, "The GSTIN is cancelled.")
    assert partner.status is PartnerStatus.REJECTED
    partner.revise()
    partner.submit()
    assert (partner.status, partner.verification) == (
        PartnerStatus.UNDER_REVIEW,
        Verification.NOT_STARTED,
    )


def test_a_rejection_needs_a_reason():
    with pytest.raises(InvalidInput):
        _under_review().reject(NOW, "  ")


def test_suspension_and_reinstatement_of_an_approved_partner():
    partner = _under_review()
    partner.approve(NOW)
    partner.suspend(NOW, "Unpaid invoices")
    assert not partner.may_trade
    partner.reinstate(NOW, "Paid")
    assert partner.may_trade


@pytest.mark.parametrize(
    ("act", "status"),
    [
        (lambda p: p.approve(NOW), PartnerStatus.PENDING),
        (lambda p: p.record_verification(Verification.PASSED), PartnerStatus.PENDING),
        (lambda p: p.suspend(NOW, "x"), PartnerStatus.PENDING),
        (lambda p: p.revise(), PartnerStatus.PENDING),
    ],
)
def test_a_step_out_of_order_is_a_conflict(act, status):
    partner = _partner()
    assert partner.status is status
    with pytest.raises(Conflict):
        act(partner)


def test_every_change_moves_the_version_for_optimistic_concurrency():
    partner = _partner()
    versions = [partner.version]
    partner.submit()
    versions.append(partner.version)
    partner.record_verification(Verification.PASSED)
    versions.append(partner.version)
    assert versions == sorted(set(versions))


def test_an_application_needs_a_tax_id():
    with pytest.raises(InvalidInput, match="tax id"):
        _partner(tax_ids=()).submit()


def test_a_gstin_of_another_pan_is_refused():
    other_pan = parse_tax_id(TaxIdKind.PAN, "IN", "AAGCB7383J")
    with pytest.raises(InvalidInput, match="another PAN"):
        _partner(tax_ids=(other_pan, GSTIN))


def test_one_tax_id_of_each_kind_and_of_the_partner_country():
    with pytest.raises(InvalidInput, match="one tax id of each kind"):
        _partner(tax_ids=(PAN, PAN))
    with pytest.raises(InvalidInput, match="own country"):
        _partner(country="DE")


def test_a_partner_needs_a_name_and_a_type():
    with pytest.raises(InvalidInput):
        _partner(legal_name=" ")
    with pytest.raises(InvalidInput):
        _partner(types=frozenset())


def test_a_location_has_both_coordinates_within_range():
    assert Location("Depot", "Plot 4, APMC Yard, Vashi", "IN", 19.07, 72.99).latitude == 19.07
    with pytest.raises(InvalidInput):
        Location("Depot", "Vashi", "IN", latitude=19.07)
    with pytest.raises(InvalidInput):
        Location("Depot", "Vashi", "IN", latitude=91, longitude=0)
