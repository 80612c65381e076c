"""Tax ids: formats, checksums, canonical forms and masking."""

from __future__ import annotations

import pytest

from mandi_errors import InvalidInput
from mandi_partners.domain.tax_ids import TaxIdKind, gstin_check_character, parse_tax_id

# Published examples whose check characters are known to be right.
VALID_GSTINS = ("27AAPFU0939F1ZV", "29AAGCB7383J1Z4")
VALID_GERMAN_VAT = "DE136695976"


@pytest.mark.parametrize("gstin", VALID_GSTINS)
def test_a_valid_gstin_is_accepted_with_its_pan(gstin):
    parsed = parse_tax_id(TaxIdKind.GSTIN, "in", f" {gstin.lower()} ")
    assert parsed.value == gstin
    assert parsed.embedded_pan == gstin[2:12]
    assert gstin_check_character(gstin[:14]) == gstin[14]


@pytest.mark.parametrize("gstin", VALID_GSTINS)
def test_any_single_mistyped_character_of_a_gstin_is_caught(gstin):
    for position in range(15):
        for replacement in "0Z7A":
            mistyped = gstin[:position] + replacement + gstin[position + 1 :]
            if mistyped == gstin:
                continue
            with pytest.raises(InvalidInput):
                parse_tax_id(TaxIdKind.GSTIN, "IN", mistyped)


@pytest.mark.parametrize(
    "gstin",
    ["00AAPFU0939F1ZV", "27AAPFU0939F1XV", "27AAPFU0939F0ZV", "27AAPFU0939F1Z", "27AAPXU0939F1ZV"],
)
def test_a_gstin_out_of_shape_is_refused(gstin):
    with pytest.raises(InvalidInput):
        parse_tax_id(TaxIdKind.GSTIN, "IN", gstin)


def test_a_pan_is_checked_for_its_shape_and_holder_type():
    assert parse_tax_id(TaxIdKind.PAN, "IN", "aapfu0939f").value == "AAPFU0939F"
    for wrong in ("AAPXU0939F", "AAPFU0939", "AAPFU09391", "1APFU0939F"):
        with pytest.raises(InvalidInput):
            parse_tax_id(TaxIdKind.PAN, "IN", wrong)


def test_indian_ids_belong_to_india():
    with pytest.raises(InvalidInput, match="country is IN"):
        parse_tax_id(TaxIdKind.PAN, "DE", "AAPFU0939F")


def test_a_german_vat_number_is_checked_by_its_check_digit():
    assert parse_tax_id(TaxIdKind.VAT, "DE", "DE 136 695 976").value == VALID_GERMAN_VAT
    with pytest.raises(InvalidInput, match="check digit"):
        parse_tax_id(TaxIdKind.VAT, "DE", "DE136695977")
    with pytest.raises(InvalidInput, match="country"):
        parse_tax_id(TaxIdKind.VAT, "DE", "FR136695976")


def test_other_ids_are_checked_for_shape():
    assert parse_tax_id(TaxIdKind.OTHER, "us", "12-3456789").country == "US"
    for wrong in ("", "abc", "x" * 31, "12<script>"):
        with pytest.raises(InvalidInput):
            parse_tax_id(TaxIdKind.OTHER, "US", wrong)
    with pytest.raises(InvalidInput, match="ISO"):
        parse_tax_id(TaxIdKind.OTHER, "USA", "12-3456789")


def test_refusals_never_echo_the_value():
    with pytest.raises(InvalidInput) as refused:
        parse_tax_id(TaxIdKind.GSTIN, "IN", "27AAPFU0939F1ZX")
    assert "27AAPFU0939F1ZX" not in str(refused.value)


def test_a_masked_id_shows_only_its_last_four_characters():
    masked = parse_tax_id(TaxIdKind.GSTIN, "IN", VALID_GSTINS[0]).masked
    assert masked.endswith("F1ZV")
    assert "AAPFU" not in masked
    assert len(masked) == 15
