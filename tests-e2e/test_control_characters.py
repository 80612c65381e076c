"""Text with a NUL or another control character is a 422 everywhere, never a 500.

PostgreSQL refuses a NUL in text; before the shared text types a NUL in a partner's trade name
or an API key's name reached it and the client got a 500 (with the statement's parameters in
the error log). Every text field now refuses control characters where the request is read.
"""

from __future__ import annotations

import pytest
from partner_bodies import new_partner_body

CONTROLS = ["\x00", "\x1b", "\x7f", "\x85", "\n"]


def _assert_refused(answer, field: str) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert any(field in error["loc"] for error in answer.json()["errors"]), answer.text


@pytest.mark.parametrize("control", CONTROLS)
def test_a_partner_name_with_a_control_character_is_refused(gateway, new_admin, control):
    body = new_partner_body(trade_name=f"Acme{control}Agro")
    answer = gateway.post("/api/v1/partners", headers=new_admin().bearer, json=body)
    _assert_refused(answer, "trade_name")


@pytest.mark.parametrize("control", CONTROLS)
def test_an_api_key_name_with_a_control_character_is_refused(gateway, new_admin, control):
    body = {"name": f"erp{control}", "scopes": ["auth:read"]}
    answer = gateway.post("/api/v1/auth/api-keys", headers=new_admin().bearer, json=body)
    _assert_refused(answer, "name")


def test_a_sign_in_with_a_nul_is_refused_not_looked_up(login):
    _assert_refused(login("demo\x00", "someone@example.com", "pw"), "tenant")


def test_a_multi_line_note_keeps_its_line_breaks_but_no_other_control(gateway, new_admin):
    staff = new_admin().bearer
    partner = gateway.post("/api/v1/partners", headers=staff, json=new_partner_body()).json()
    reasons = {"line break": "Checked by hand.\nDocuments on file.", "NUL": "Checked\x00"}
    refused = gateway.post(
        f"/api/v1/partners/{partner['id']}/reject", headers=staff, json={"note": reasons["NUL"]}
    )
    _assert_refused(refused, "note")
    submitted = gateway.post(f"/api/v1/partners/{partner['id']}/submit", headers=staff)
    assert submitted.status_code == 200, submitted.text
    rejected = gateway.post(
        f"/api/v1/partners/{partner['id']}/reject",
        headers=staff,
        json={"note": reasons["line break"]},
    )
    assert rejected.status_code == 200, rejected.text
