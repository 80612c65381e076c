"""Partners through the gateway: onboarding, the verifier down and back, duplicates, idempotent
retries, what a partner's own staff may see, PII kept out of the database and the logs, and bad
input refused with problem+json.

The platform's partners service talks to a fake of the KYC verifier, a real HTTP server this
module takes down and brings back; its circuit opens after two failed calls (conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from partner_bodies import new_pan, new_partner_body
from partner_clients import api_key_client, partner_user_client

from mandi_testing.kafka import read_topic
from mandi_testing.platform import RunningPlatform

PROBLEM = "application/problem+json"


def eventually(
    check: Callable[[], httpx.Response],
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 20.0,
) -> dict[str, Any]:
    """Repeats a GET until its body satisfies `until`; fails with the last body otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if until(body):
            return body
        assert time.monotonic() < deadline, f"still not there after {timeout} s: {body}"
        time.sleep(0.2)


def _register(client: httpx.Client, **changes: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/partners", json=new_partner_body(**changes))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _get(client: httpx.Client, partner_id: str) -> Callable[[], httpx.Response]:
    return lambda: client.get(f"/api/v1/partners/{partner_id}")


def _search(
    client: httpx.Client, pan: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST /api/v1/partners/search for the holders of a PAN (the tax id in the body)."""
    body = {"tax_id": {"kind": "pan", "country": "IN", "value": pan}}
    answer = client.post("/api/v1/partners/search", json=body, headers=headers or {})
    assert answer.status_code == 200, answer.text
    return answer


def _verified(client: httpx.Client, partner_id: str, outcome: str) -> dict[str, Any]:
    return eventually(_get(client, partner_id), lambda body: body["verification"] == outcome)


def test_onboarding_happy_path_with_events_free_of_pii(
    staff: httpx.Client, platform: RunningPlatform
) -> None:
    body = new_partner_body()
    registered = staff.post("/api/v1/partners", json=body)
    assert registered.status_code == 201, registered.text
    partner = registered.json()
    assert (partner["status"], partner["verification"]) == ("pending", "not_started")
    assert registered.headers["etag"] == '"1"'
    assert registered.headers["location"] == f"/api/v1/partners/{partner['id']}"
    assert [tax_id["value"] for tax_id in partner["tax_ids"]] == [
        tax_id["value"] for tax_id in body["tax_ids"]
    ]  # operator staff see tax ids whole

    submitted = staff.post(f"/api/v1/partners/{partner['id']}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "under_review"
    assert _verified(staff, partner["id"], "passed")["status"] == "under_review"

    approved = staff.post(f"/api/v1/partners/{partner['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_at"] is not None

    events = _events_of(platform, partner["id"], expected=4)
    assert [event["type"] for event in events] == [
        "mandi.partner.registered.v1",
        "mandi.partner.submitted.v1",
        "mandi.partner.verified.v1",
        "mandi.partner.approved.v1",
    ]
    assert events[0]["data"]["tax_ids"][0]["masked"].endswith(body["tax_ids"][0]["value"][-4:])
    assert len(events[0]["data"]["director_fingerprints"]) == 2  # email and phone
    _assert_free_of(json.dumps(events), _pii_of(body))


def _events_of(platform: RunningPlatform, partner_id: str, expected: int) -> list[dict[str, Any]]:
    """The partner's events on Kafka (CloudEvents in binary mode: the type is a header)."""
    assert platform.partners is not None
    bootstrap = platform.partners.environment["MANDI_PARTNERS_KAFKA_BOOTSTRAP_SERVERS"]
    deadline = time.monotonic() + 20
    while True:
        records = asyncio.run(
            read_topic(bootstrap, "mandi.partners.events", expected=10**6, timeout=2)
        )
        mine = [
            {"type": dict(record.headers)["ce_type"].decode(), "data": json.loads(record.value)}
            for record in records
            if record.key == partner_id.encode()
        ]
        if len(mine) >= expected or time.monotonic() > deadline:
            return sorted(mine, key=lambda event: event["data"]["version"])


def test_verifier_down_parks_applications_until_it_is_back(
    staff: httpx.Client, verifier: Any
) -> None:
    verifier.stop()  # connection refused: the API is down
    waiting = [_register(staff) for _ in range(2)]
    for partner in waiting:
        assert staff.post(f"/api/v1/partners/{partner['id']}/submit").status_code == 200
    for partner in waiting:
        _verified(staff, partner["id"], "parked")
    verifier.start()
    for partner in waiting:  # the sweep tries again once the circuit lets a call through
        assert _verified(staff, partner["id"], "passed")["status"] == "under_review"


def test_an_open_circuit_stops_calls_until_its_reset_time(
    staff: httpx.Client, verifier: Any
) -> None:
    verifier.set_mode("error")  # the verifier answers 503
    waiting = [_register(staff) for _ in range(2)]
    for partner in waiting:
        staff.post(f"/api/v1/partners/{partner['id']}/submit")
        _verified(staff, partner["id"], "parked")
    calls_when_open = verifier.calls()
    time.sleep(1.0)  # two sweeps of parked applications, within the circuit's 2 s
    assert verifier.calls() == calls_when_open
    verifier.set_mode("up")
    for partner in waiting:
        _verified(staff, partner["id"], "passed")
    assert verifier.calls() > calls_when_open


def test_a_failed_verification_is_rejected_and_revised(staff: httpx.Client) -> None:
    partner = _register(staff, pan=new_pan(digits="0000"))  # the fake's registry lacks it
    staff.post(f"/api/v1/partners/{partner['id']}/submit")
    _verified(staff, partner["id"], "failed")
    refused = staff.post(f"/api/v1/partners/{partner['id']}/approve", json={"note": "fine"})
    assert refused.status_code == 409
    rejected = staff.post(
        f"/api/v1/partners/{partner['id']}/reject", json={"note": "The PAN is not registered."}
    )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["review_notes"][-1] == "The PAN is not registered."
    revised = staff.post(f"/api/v1/partners/{partner['id']}/revise")
    assert (revised.json()["status"], revised.json()["verification"]) == ("pending", "not_started")


def test_a_tax_id_is_registered_once(staff: httpx.Client) -> None:
    first = new_partner_body()
    assert staff.post("/api/v1/partners", json=first).status_code == 201
    again = new_partner_body(pan=first["tax_ids"][0]["value"])
    duplicate = staff.post("/api/v1/partners", json=again)
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == PROBLEM
    assert "tax id" in duplicate.json()["detail"]
    assert first["tax_ids"][0]["value"] not in duplicate.text
    found = _search(staff, first["tax_ids"][0]["value"])
    assert [partner["legal_name"] for partner in found.json()] == [first["legal_name"]]


def test_an_idempotent_retry_gets_the_same_answer_and_changes_nothing(
    staff: httpx.Client,
) -> None:
    body, key = new_partner_body(), {"idempotency-key": str(uuid.uuid4())}
    first = staff.post("/api/v1/partners", json=body, headers=key)
    retried = staff.post("/api/v1/partners", json=body, headers=key)
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert retried.headers["idempotent-replayed"] == "true"
    other = staff.post("/api/v1/partners", json=new_partner_body(), headers=key)
    assert other.status_code == 409
    assert other.json()["type"] == "urn:mandi:problem:idempotency-key-reused"
    found = _search(staff, body["tax_ids"][0]["value"])
    assert len(found.json()) == 1

    patch_key = {"idempotency-key": str(uuid.uuid4()), "if-match": '"1"'}
    path = f"/api/v1/partners/{first.json()['id']}"
    changed = staff.patch(path, json={"trade_name": "Acme Fresh"}, headers=patch_key)
    replayed = staff.patch(path, json={"trade_name": "Acme Fresh"}, headers=patch_key)
    assert (changed.status_code, replayed.status_code) == (200, 200)
    assert replayed.json() == changed.json()  # not a 412: the stored answer, not a second change
    assert staff.get(path).json()["version"] == 2


def test_updates_need_the_current_version(staff: httpx.Client) -> None:
    partner = _register(staff)
    path = f"/api/v1/partners/{partner['id']}"
    missing = staff.patch(path, json={"trade_name": "X"})
    assert missing.status_code == 428
    updated = staff.patch(path, json={"trade_name": "X"}, headers={"if-match": '"1"'})
    assert (updated.status_code, updated.headers["etag"]) == (200, '"2"')
    stale = staff.patch(path, json={"trade_name": "Y"}, headers={"if-match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM


def test_partner_staff_see_only_their_partner_and_no_internal_fields(
    platform: RunningPlatform, new_admin: Callable[..., Any], gateway: httpx.Client
) -> None:
    admin = new_admin("a")
    gateway.headers.update(admin.bearer)
    own, other = _register(gateway), _register(gateway)
    flagged = gateway.patch(
        f"/api/v1/partners/{own['id']}",
        json={"risk_flags": ["watchlist"], "group_id": str(uuid.uuid4())},
        headers={"if-match": '"1"'},
    )
    assert flagged.json()["risk_flags"] == ["watchlist"]
    with closing(partner_user_client(platform, gateway, admin.tenant, own["id"])) as partner_staff:
        seen = partner_staff.get(f"/api/v1/partners/{own['id']}")
        assert seen.status_code == 200, seen.text
        shown = seen.json()
        assert not {"review_notes", "risk_flags", "group_id"} & shown.keys()
        assert all("value" not in tax_id for tax_id in shown["tax_ids"])
        assert shown["tax_ids"][0]["masked"][-4:] == own["tax_ids"][0]["value"][-4:]
        assert own["tax_ids"][0]["value"] not in seen.text
        assert partner_staff.get(f"/api/v1/partners/{other['id']}").status_code == 404
        listed = partner_staff.get("/api/v1/partners")
        assert [partner["id"] for partner in listed.json()] == [own["id"]]
        assert partner_staff.post("/api/v1/partners", json=new_partner_body()).status_code == 403
        approve = partner_staff.post(f"/api/v1/partners/{own['id']}/approve", json={})
        assert approve.status_code == 403
        own_flags = partner_staff.patch(
            f"/api/v1/partners/{own['id']}",
            json={"risk_flags": []},
            headers={"if-match": '"2"'},
        )
        assert own_flags.status_code == 403
        renamed = partner_staff.patch(
            f"/api/v1/partners/{own['id']}",
            json={"trade_name": "Acme Own"},
            headers={"if-match": '"2"'},
        )
        assert renamed.status_code == 200, renamed.text
        assert "risk_flags" not in renamed.json()
        check = partner_staff.get(f"/api/v1/partners/{own['id']}/trade-check/{other['id']}")
        assert check.status_code == 403


# What differs between two partners whatever happens; the rest of an answer must be alike.
_OWN_VALUES = {"id", "legal_name", "trade_name", "tax_ids", "contacts", "created_at", "updated_at"}


def _shape(answer: httpx.Response) -> dict[str, Any]:
    """An answer without the values that differ between any two partners."""
    body = answer.json()
    return {
        "status": answer.status_code,
        "headers": sorted(answer.headers.keys()),
        "etag": answer.headers.get("etag"),
        "body": {key: value for key, value in body.items() if key not in _OWN_VALUES},
        "tax_id_fields": [sorted(tax_id) for tax_id in body.get("tax_ids", [])],
    }


def _amend_tax_id(client: httpx.Client, partner_id: str, pan: str) -> httpx.Response:
    return client.patch(
        f"/api/v1/partners/{partner_id}",
        json={"tax_ids": [{"kind": "pan", "country": "IN", "value": pan}]},
        headers={"if-match": '"1"'},
    )


@pytest.mark.parametrize("credential", ["user", "api key"])
def test_partner_staff_cannot_tell_a_tax_id_another_partner_holds(
    platform: RunningPlatform,
    new_admin: Callable[..., Any],
    gateway: httpx.Client,
    credential: str,
) -> None:
    admin = new_admin("a")
    gateway.headers.update(admin.bearer)
    held_pan = _register(gateway)["tax_ids"][0]["value"]
    free, taken = _register(gateway), _register(gateway)

    def own_staff(partner: dict[str, Any]) -> httpx.Client:
        if credential == "user":
            return partner_user_client(platform, gateway, admin.tenant, partner["id"])
        return api_key_client(platform, gateway, partner["id"], ("partners:read", "partners:write"))

    with closing(own_staff(free)) as free_staff, closing(own_staff(taken)) as taken_staff:
        answers = {
            "free": _amend_tax_id(free_staff, free["id"], new_pan()),
            "taken": _amend_tax_id(taken_staff, taken["id"], held_pan),
        }
        assert answers["free"].status_code == 200, answers["free"].text
        assert _shape(answers["taken"]) == _shape(answers["free"])
        read_back = [
            _shape(client.get(f"/api/v1/partners/{partner['id']}"))
            for client, partner in ((free_staff, free), (taken_staff, taken))
        ]
        assert read_back[0] == read_back[1]
        submitted = [
            _shape(client.post(f"/api/v1/partners/{partner['id']}/submit"))
            for client, partner in ((free_staff, free), (taken_staff, taken))
        ]
        assert submitted[0] == submitted[1]
        assert submitted[0]["status"] == 200

    reviewed = _verified(gateway, taken["id"], "passed")
    assert reviewed["risk_flags"] == ["tax_id_contested"]
    assert [tax_id["contested"] for tax_id in reviewed["tax_ids"]] == [True]
    _verified(gateway, free["id"], "passed")
    refused = gateway.post(f"/api/v1/partners/{taken['id']}/approve", json={})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert "Another partner holds a tax id" in refused.json()["detail"]
    assert gateway.post(f"/api/v1/partners/{free['id']}/approve", json={}).status_code == 200

    events = {
        name: _events_of(platform, partner["id"], expected=4)
        for name, partner in (("free", free), ("taken", taken))
    }
    assert [event["type"] for event in events["taken"]] == [
        event["type"] for event in events["free"][:4]
    ]
    updated = {name: events[name][1]["data"] for name in events}
    assert updated["taken"].keys() == updated["free"].keys()
    assert updated["taken"]["changed_fields"] == updated["free"]["changed_fields"] == ["tax_ids"]
    assert "contested" not in json.dumps(events["taken"])


def test_operator_staff_are_told_a_tax_id_is_taken(staff: httpx.Client) -> None:
    held_pan = _register(staff)["tax_ids"][0]["value"]
    applicant = _register(staff)
    refused = _amend_tax_id(staff, applicant["id"], held_pan)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["detail"] == "Another partner is registered with this tax id."
    assert held_pan not in refused.text


def test_partners_of_one_group_or_sharing_a_director_may_not_trade(staff: httpx.Client) -> None:
    group = str(uuid.uuid4())
    first, second = _register(staff, group_id=group), _register(staff, group_id=group)
    director = new_partner_body()["contacts"]
    sharing, unrelated = _register(staff), _register(staff)
    linked_partner = _register(staff, contacts=director)
    moved = staff.patch(
        f"/api/v1/partners/{sharing['id']}",
        json={"contacts": director},
        headers={"if-match": '"1"'},
    )
    assert moved.status_code == 200, moved.text

    def check(one: dict[str, Any], two: dict[str, Any]) -> dict[str, Any]:
        answer = staff.get(f"/api/v1/partners/{one['id']}/trade-check/{two['id']}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert check(first, second) == {"allowed": False, "reason": "same_group"}
    assert check(sharing, linked_partner) == {"allowed": False, "reason": "shared_director"}
    assert check(first, unrelated) == {"allowed": True, "reason": None}


def _pii_of(body: dict[str, Any]) -> list[str]:
    contacts = body["contacts"]
    return [
        *(tax_id["value"] for tax_id in body["tax_ids"]),
        *(contact["name"] for contact in contacts),
        *(contact["email"] for contact in contacts),
        *(contact["phone"] for contact in contacts),
        *(contact["phone"].lstrip("+") for contact in contacts),
    ]


def _assert_free_of(text: str, secrets_: list[str]) -> None:
    leaked = [value for value in secrets_ if value.lower() in text.lower()]
    assert not leaked, f"found in clear: {leaked}"


def _pg_dump(platform: RunningPlatform, infrastructure: Any) -> str:
    assert platform.partners is not None
    database = urlsplit(platform.partners.environment["MANDI_PARTNERS_DATABASE_URL"]).path
    admin = urlsplit(infrastructure.postgres_admin_url)
    url = urlunsplit(admin._replace(path=database))
    binary = max(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))
    dumped = subprocess.run(
        [str(binary), "--data-only", "--dbname", url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    return dumped.stdout


def test_the_database_and_the_logs_hold_no_pii_in_clear(
    staff: httpx.Client, platform: RunningPlatform, infrastructure: Any
) -> None:
    body = new_partner_body()
    partner = staff.post("/api/v1/partners", json=body, headers={"idempotency-key": "pii-1"})
    assert partner.status_code == 201, partner.text
    staff.post(f"/api/v1/partners/{partner.json()['id']}/submit")
    _verified(staff, partner.json()["id"], "passed")
    gstin = body["tax_ids"][1]["value"]
    bad_gstin = gstin[:-1] + ("A" if gstin[-1] != "A" else "B")
    refused = staff.post(
        "/api/v1/partners",
        json=new_partner_body(tax_ids=[{"kind": "gstin", "country": "IN", "value": bad_gstin}]),
    )
    assert refused.status_code == 422

    dump = _pg_dump(platform, infrastructure)
    assert body["legal_name"] in dump  # the dump is real: a company's name is not personal data
    _assert_free_of(dump, [*_pii_of(body), bad_gstin])
    assert platform.partners is not None
    logs = [platform.partners.log, platform.auth.log, platform.gateway.access_log]
    _assert_free_of("\n".join(path.read_text(errors="replace") for path in logs), _pii_of(body))


def _access_log_entry(platform: RunningPlatform, request_id: str) -> dict[str, Any]:
    """nginx's access-log entry of a request (nginx flushes the log every second)."""
    deadline = time.monotonic() + 10
    while True:
        # nginx writes the bytes a client sent; a malformed one must not hide the others.
        for line in platform.gateway.access_log.read_text(errors="replace").splitlines():
            entry: dict[str, Any] = json.loads(line)
            if entry["request_id"] == request_id:
                return entry
        assert time.monotonic() < deadline, f"{request_id} never reached the access log"
        time.sleep(0.2)


def test_a_lookup_by_tax_id_leaves_it_in_no_log(
    staff: httpx.Client, platform: RunningPlatform
) -> None:
    body = new_partner_body()
    registered = staff.post("/api/v1/partners", json=body)
    assert registered.status_code == 201, registered.text
    pan, gstin = (tax_id["value"] for tax_id in body["tax_ids"])
    run = uuid.uuid4().hex[:12]

    found = _search(staff, pan, headers={"x-request-id": f"search-{run}"})
    refused = staff.get(
        "/api/v1/partners",
        params={"tax_id_kind": "gstin", "country": "IN", "tax_id": gstin},
        headers={"x-request-id": f"query-{run}"},
    )

    assert [partner["id"] for partner in found.json()] == [registered.json()["id"]]
    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM
    assert "POST /api/v1/partners/search" in refused.json()["detail"]
    searched = _access_log_entry(platform, f"search-{run}")
    queried = _access_log_entry(platform, f"query-{run}")
    assert platform.partners is not None
    error_log = platform.gateway.access_log.with_name("error.log")
    logs = [platform.partners.log, platform.auth.log, platform.gateway.access_log, error_log]
    text = "\n".join(path.read_text(errors="replace") for path in logs if path.exists())
    _assert_free_of(text, [pan, gstin])
    assert (searched.get("path"), searched["status"]) == ("/api/v1/partners/search", 200)
    assert (queried.get("path"), queried["status"]) == ("/api/v1/partners", 400)


BAD_BODIES = {
    "a number for a name": {"legal_name": 123},
    "a string for a list": {"types": "seller"},
    "an unknown type": {"types": ["smuggler"]},
    "an oversized name": {"legal_name": "x" * 301},
    "an oversized address": {"locations": [{"label": "W", "address": "x" * 1001, "country": "IN"}]},
    "an unknown field": {"nickname": "acme"},
    "a PAN of the wrong shape": {"tax_ids": [{"kind": "pan", "country": "IN", "value": "ABC123"}]},
    "a GSTIN with a wrong check": {
        "tax_ids": [{"kind": "gstin", "country": "IN", "value": "27AAPFU0939F1ZA"}]
    },
    "a PAN of another country": {
        "tax_ids": [{"kind": "pan", "country": "DE", "value": "AAPFU0939F"}]
    },
    "a German VAT number with a wrong check": {
        "country": "DE",
        "tax_ids": [{"kind": "vat", "country": "DE", "value": "DE136695970"}],
    },
    "a malformed email": {"contacts": [{"name": "A", "email": "not-an-email"}]},
    "half a coordinate": {
        "locations": [{"label": "W", "address": "Yard", "country": "IN", "latitude": 1.0}]
    },
}


@pytest.mark.parametrize("changes", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_input_is_refused_with_a_problem(staff: httpx.Client, changes: dict[str, Any]) -> None:
    answer = staff.post("/api/v1/partners", json=new_partner_body(**changes))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert "Traceback" not in answer.text


def test_malformed_oversized_and_unauthorized_requests_get_problems(
    staff: httpx.Client, platform: RunningPlatform
) -> None:
    broken = staff.post(
        "/api/v1/partners", content=b'{"legal_name": ', headers={"content-type": "application/json"}
    )
    huge = staff.post(
        "/api/v1/partners",
        content=json.dumps(new_partner_body(trade_name="x" * 70_000)).encode(),
        headers={"content-type": "application/json"},
    )
    long_key = staff.post(
        "/api/v1/partners", json=new_partner_body(), headers={"idempotency-key": "k" * 300}
    )
    not_an_id = staff.get("/api/v1/partners/not-a-uuid")
    anonymous = httpx.get(f"{platform.gateway.url}/api/v1/partners", timeout=10)
    answers = {
        "broken json": (broken, {400, 422}),
        "too large": (huge, {413}),
        "bad idempotency key": (long_key, {422}),  # declared: 1 to 200 visible ASCII
        "not an id": (not_an_id, {404, 422}),
        "anonymous": (anonymous, {401}),
    }
    for name, (answer, statuses) in answers.items():
        assert answer.status_code in statuses, (name, answer.status_code, answer.text)
        assert answer.headers["content-type"] == PROBLEM, name


def _staff_of(client: httpx.Client, partner_id: str) -> Callable[[], httpx.Response]:
    return lambda: client.get(f"/api/v1/partners/{partner_id}/staff")


def test_a_user_auth_creates_for_a_partner_joins_its_staff_through_auth_s_events(
    platform: RunningPlatform, new_admin: Callable[..., Any], gateway: httpx.Client
) -> None:
    admin = new_admin("a")
    gateway.headers.update(admin.bearer)
    own, other = _register(gateway), _register(gateway)
    with closing(partner_user_client(platform, gateway, admin.tenant, own["id"])) as partner_staff:
        me = partner_staff.get("/api/v1/auth/me").json()
        deadline = time.monotonic() + 20
        while not (linked := _staff_of(gateway, own["id"])().json()):
            assert time.monotonic() < deadline, "auth's UserCreated never reached partners"
            time.sleep(0.2)
        assert [member["user_id"] for member in linked] == [me["principal_id"]]
        assert linked[0]["roles"] == ["partner_admin"]
        # The partner's own staff see their colleagues, not another partner's.
        assert partner_staff.get(f"/api/v1/partners/{own['id']}/staff").status_code == 200
        assert partner_staff.get(f"/api/v1/partners/{other['id']}/staff").status_code == 404
    assert _staff_of(gateway, other["id"])().json() == []
    # The consumer process, which serves no API, still answers its metrics.
    port = platform.partners.environment["MANDI_PARTNERS_CONSUME_METRICS_PORT"]
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert 'mandi_consumer_messages_total{group="partners"' in metrics
