"""Schemathesis hooks: the rules no JSON Schema can state, applied to schema-valid requests.

The OpenAPI documents declare every constraint of a single field (patterns, lengths, enums, no
control characters). A few rules span fields or need arithmetic, and are said in the documents'
descriptions instead: a GSTIN's mod-36 check character, a German VAT number's check digit, a
VAT number starting with its country's code, one tax id of each kind, a GSTIN of the partner's
own PAN, tax ids of the partner's country, coordinates given in pairs, a key's expiry in the
future; in the availability catalog, a price unit among the commodity's units, distinct grades,
a quality range whose maximum is at least its minimum, and exact amounts; in risk, a trade's value
and a credit limit with no more decimals than their currency has; in webhook, an endpoint's URL
whose host is a public address (the test has no DNS to resolve names with, so an address is
given as it). A request the fuzzer
means as valid ("positive") is made to keep them, as a client following the descriptions would;
negative requests are left alone, to be refused.

Loaded by the schemathesis command through SCHEMATHESIS_HOOKS (test_api_contract.py).
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import schemathesis
from schemathesis import Case, HookContext

from mandi_partners.domain.tax_ids import gstin_check_character

_ENTITY_TAG = re.compile(r'(W/)?"[0-9]{1,9}"')
_UNIQUE_KINDS = ("pan", "gstin", "vat")
_INDIAN_KINDS = ("pan", "gstin")


@schemathesis.hook
def map_case(context: HookContext, case: Case) -> Case:  # noqa: ARG001 - the hook's signature
    """Makes a positive request keep the rules its operation's description states."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    _well_formed_if_match(case)
    fix = _FIXES.get((case.method.upper(), case.path))
    if fix is not None and isinstance(case.body, dict):
        case.body = fix(copy.deepcopy(case.body))
    if case.method.upper() == "GET" and case.path in _LISTS_NEAR_A_POINT and case.query:
        case.query = _point_and_radius(dict(case.query))
    return case


def _well_formed_if_match(case: Case) -> None:
    # Schemathesis 4 fills an optional If-Match of a positive case with "0", ignoring the
    # header's declared pattern (an entity tag, `"3"`): such a case is not schema-valid, so it is
    # given a well-formed tag (of a version that does not exist) as a client would send.
    headers = case.headers or {}
    if "if-match" in headers and not _ENTITY_TAG.fullmatch(str(headers["if-match"])):
        headers["if-match"] = '"1"'


def _registration(body: dict[str, Any]) -> dict[str, Any]:
    body = _consistent_tax_ids(body, default_country="IN")
    body["locations"] = [_paired(location) for location in body.get("locations") or []]
    return body


def _amendment(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("tax_ids") is not None:
        # Tax ids change only with the country they must be of, named in the same update.
        body = _consistent_tax_ids(body, default_country=_vat_country(body) or "IN")
    if body.get("locations") is not None:
        body["locations"] = [_paired(location) for location in body["locations"]]
    return body


def _consistent_tax_ids(body: dict[str, Any], *, default_country: str) -> dict[str, Any]:
    tax_ids = _one_of_each_kind(body.get("tax_ids") or [])
    if any(tax_id["kind"] in _INDIAN_KINDS for tax_id in tax_ids):
        body["country"] = "IN"
    country = str(body.setdefault("country", default_country)).upper()
    pan = next((tax_id["value"] for tax_id in tax_ids if tax_id["kind"] == "pan"), None)
    body["tax_ids"] = [_valid_tax_id(tax_id, country, pan) for tax_id in tax_ids]
    return body


def _vat_country(body: dict[str, Any]) -> str | None:
    vats = [tax_id for tax_id in body.get("tax_ids") or [] if tax_id["kind"] == "vat"]
    return str(vats[0]["country"]) if vats else None


def _search(body: dict[str, Any]) -> dict[str, Any]:
    tax_id = body.get("tax_id")
    if isinstance(tax_id, dict):
        body["tax_id"] = _valid_tax_id(tax_id, tax_id.get("country", "IN"), None)
    return body


def _api_key(body: dict[str, Any]) -> dict[str, Any]:
    expires_at = body.get("expires_at")
    soon = datetime.now(UTC) + timedelta(hours=1)
    if isinstance(expires_at, str) and (_parsed(expires_at) or soon) <= soon:
        body["expires_at"] = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    return body


def _one_of_each_kind(tax_ids: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    kept = []
    for tax_id in tax_ids:
        if tax_id["kind"] in _UNIQUE_KINDS and tax_id["kind"] in seen:
            continue
        seen.add(tax_id["kind"])
        kept.append(tax_id)
    return kept


def _valid_tax_id(tax_id: dict[str, Any], country: str, pan: str | None) -> dict[str, Any]:
    kind, value = tax_id["kind"], tax_id["value"]
    if kind == "gstin":
        first_fourteen = value[:2] + (pan or value[2:12]) + value[12:14]
        value = first_fourteen + gstin_check_character(first_fourteen)
    elif kind == "vat":
        tax_id["country"] = country
        value = _german_vat(value) if country == "DE" else country + value[2:]
    return {**tax_id, "value": value}


def _german_vat(value: str) -> str:
    digits = "".join(str(ord(character) % 10) for character in value[2:10]).ljust(8, "0")
    product = 10
    for digit in digits:
        total = (int(digit) + product) % 10 or 10
        product = (2 * total) % 11
    return f"DE{digits}{(11 - product) % 10}"


def _paired(location: dict[str, Any]) -> dict[str, Any]:
    if (location.get("latitude") is None) != (location.get("longitude") is None):
        location["latitude"] = location["longitude"] = None
    return location


def _parsed(moment: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(moment.upper())  # 3.11 reads a trailing Z
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_COMMON_UNITS = ("kg", "quintal", "tonne")


def _exact(value: Any, *, positive: bool) -> str:
    """The amount as a client would send it: six decimal places at most, in range."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal(1)
    number = number.quantize(Decimal("0.000001"), rounding=ROUND_DOWN).copy_abs()
    number = min(number, Decimal(99999999999999999))
    return str(number if number > 0 or not positive else Decimal(1))


def _grades(grades: list[str]) -> list[str]:
    kept = list(dict.fromkeys(grade for grade in grades if grade.strip()))
    return kept or ["FAQ"]


def _quality(quality: dict[str, Any]) -> dict[str, Any]:
    fixed = {}
    for name, bound in quality.items():
        low, high = sorted(
            (
                _exact(bound.get("min", 0), positive=False),
                _exact(bound.get("max", 0), positive=False),
            ),
            key=Decimal,
        )
        fixed[name] = {**bound, "min": low, "max": high}
    return fixed


def _commodity(body: dict[str, Any]) -> dict[str, Any]:
    base = body.get("base_unit", "kg")
    units = {unit: _exact(size, positive=True) for unit, size in (body.get("units") or {}).items()}
    units.pop(base, None)  # the base unit is sized 1, by default
    body["units"] = units
    known = [base, *units, *(_COMMON_UNITS if base == "kg" else ())]
    if body.get("price_unit") not in known:
        body["price_unit"] = base
    body["grades"] = _grades(body.get("grades") or [])
    body["quality"] = _quality(body.get("quality") or {})
    return body


def _commodity_changes(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("units") is not None:
        body["units"] = {unit: _exact(size, positive=True) for unit, size in body["units"].items()}
    if body.get("grades") is not None:
        body["grades"] = _grades(body["grades"])
    if body.get("quality") is not None:
        body["quality"] = _quality(body["quality"])
    if body.get("price_unit") is not None:
        body["price_unit"] = "kg"  # every commodity measured in kg knows it
    return body


_OFFER_UNITS = ("kg", "quintal", "tonne", "bale", "candy")
_MINOR_UNITS = {"JPY": 0}


def _offer_terms(body: dict[str, Any]) -> dict[str, Any]:
    # The contract test's own catalog has cotton (its example): the terms are made to fit it.
    body.update(commodity="cotton", grade="Shankar-6", quality={})
    if body.get("unit") not in _OFFER_UNITS:
        body["unit"] = "bale"
    if body.get("price_unit") is not None:
        body["price_unit"] = "candy"
    places = _MINOR_UNITS.get(str(body.get("currency")), 2)
    price = Decimal(_exact(body.get("price", 0), positive=False))
    body["price"] = str(price.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN))
    body["quantity"] = _exact(body.get("quantity", 1), positive=True)
    if body.get("minimum_lot") is not None:
        lot = min(Decimal(_exact(body["minimum_lot"], positive=True)), Decimal(body["quantity"]))
        body["minimum_lot"] = str(lot)
    start, end = sorted((str(body["delivery_from"]), str(body["delivery_to"])))
    body.update(delivery_from=start, delivery_to=end)
    return body


def _in_currency(body: dict[str, Any], name: str, *, positive: bool) -> dict[str, Any]:
    """The amount `name` with no more decimals than the body's currency has."""
    places = _MINOR_UNITS.get(str(body.get("currency")), 2)
    amount = Decimal(_exact(body.get(name, 0), positive=positive))
    amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
    body[name] = str(amount if amount > 0 or not positive else Decimal(1))
    return body


def _trade_value(body: dict[str, Any]) -> dict[str, Any]:
    return _in_currency(body, "value", positive=True)


def _credit_limit(body: dict[str, Any]) -> dict[str, Any]:
    return _in_currency(body, "amount", positive=False)


def _offer(body: dict[str, Any]) -> dict[str, Any]:
    body = _offer_terms(body)
    if body.get("partner_id") is None:  # operator staff name the partner they act for
        body["partner_id"] = "8d9f3c52-7b1e-4a4b-9c3e-2f1d5a6b7c8d"
    return body


# A public address (TEST-NET is refused, being reserved): the SSRF guard lets it through without
# resolving anything.
_PUBLIC_ENDPOINT = "https://93.184.216.34/mandi/webhooks"


def _endpoint(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("url") is not None:
        body["url"] = _PUBLIC_ENDPOINT
    return body


_LISTS_NEAR_A_POINT = ("/availabilities", "/requirements")
_NEAR = ("latitude", "longitude", "radius_km")


def _point_and_radius(query: dict[str, Any]) -> dict[str, Any]:
    # A point and its radius are given together, or not at all.
    if any(query.get(name) is not None for name in _NEAR):
        defaults = {"latitude": 22.3, "longitude": 70.8, "radius_km": 50}
        query.update({name: query.get(name) or defaults[name] for name in _NEAR})
    return query


_FIXES = {
    ("POST", "/"): _registration,
    ("PATCH", "/{partner_id}"): _amendment,
    ("POST", "/search"): _search,
    ("POST", "/api-keys"): _api_key,
    ("POST", "/catalog/commodities"): _commodity,
    ("PATCH", "/catalog/commodities/{code}"): _commodity_changes,
    ("POST", "/availabilities"): _offer,
    ("POST", "/requirements"): _offer,
    ("PATCH", "/availabilities/{offer_id}"): _offer_terms,
    ("PATCH", "/requirements/{offer_id}"): _offer_terms,
    ("POST", "/assessments"): _trade_value,
    ("PUT", "/partners/{partner_id}/limit"): _credit_limit,
    ("POST", "/endpoints"): _endpoint,
    ("PATCH", "/endpoints/{endpoint_id}"): _endpoint,
}
