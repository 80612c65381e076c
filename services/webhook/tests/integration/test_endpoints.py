"""Endpoints through the use cases on the real PostgreSQL: a secret shown once and stored
sealed, URLs the SSRF guard refuses, filters, who sees what, rotation with an overlap that
`standardwebhooks` verifies, disabling, and the events in the outbox."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from mandi_db import IdempotencyKey, request_fingerprint
from mandi_errors import InvalidInput, NotFound, PreconditionFailed, PreconditionRequired
from mandi_security import Principal
from mandi_testing.fakes import FakeClock
from mandi_webhook.domain.endpoints import EndpointChanges
from mandi_webhook.service_layer import endpoints
from mandi_webhook.service_layer.dependencies import WebhookDependencies
from mandi_webhook.service_layer.endpoints import Registration
from mandi_webhook.service_layer.views import EndpointWithSecretView
from mandi_webhooks import EndpointRefused, WebhookSecret, webhook_headers

pytestmark = pytest.mark.integration

PUBLIC_HOST = "hooks.public.example"
PRIVATE_HOST = "erp.private.example"
URL = f"https://{PUBLIC_HOST}/mandi/hooks?token=s3cr3t-query"


def _registration(**changes: Any) -> Registration:
    fields: dict[str, Any] = {
        "url": URL,
        "event_types": frozenset({"trade.confirmed", "trade.settled"}),
        "description": "ERP",
        "rate_limit": 50,
    }
    return Registration(**{**fields, **changes})


async def _register(
    deps: WebhookDependencies, principal: Principal, **changes: Any
) -> EndpointWithSecretView:
    answer = await endpoints.register_endpoint(deps, principal, _registration(**changes))
    return answer.value


def _key(principal: Principal, key: str) -> IdempotencyKey:
    fingerprint = request_fingerprint("POST", "/endpoints", key.encode())
    return IdempotencyKey(principal.principal_id, key, fingerprint)


def _signed(secrets: tuple[WebhookSecret, ...]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"type": "trade.confirmed", "data": {"trade_id": str(uuid4())}}).encode()
    return body, webhook_headers(f"msg_{uuid4().hex}", int(time.time()), body, secrets)


def _verifies(secret: WebhookSecret, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret.reveal()).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


async def test_the_secret_is_shown_once_and_stored_sealed(
    deps: WebhookDependencies, desk: Any, raw_rows: Any, clock: FakeClock
) -> None:
    partner = desk.partner()

    made = await _register(deps, partner)
    read = await endpoints.endpoint(deps, partner, made.id)
    listed, _ = await endpoints.list_endpoints(deps, partner)

    shown = WebhookSecret.parse(made.secret)
    assert made.secret.startswith("whsec_")
    assert "secret" not in read.model_dump()
    assert made.secret not in read.model_dump_json()
    assert [each.id for each in read.secrets] == [made.secret_id]
    assert made.secret not in json.dumps([each.model_dump(mode="json") for each in listed])
    rows = await raw_rows(desk.tenant, "endpoint_secrets")
    assert len(rows) == 1
    for clear in (made.secret, base64.b64encode(shown.key).decode(), shown.key.hex()):
        assert clear not in rows[0]
    async with deps.uow(desk.tenant) as uow:
        stored = await uow.endpoints.get(made.id)
    assert stored is not None
    assert stored.signing_secrets(clock.now()) == (shown,)


async def test_a_replayed_registration_shows_its_secret_again_but_stores_it_sealed(
    deps: WebhookDependencies, desk: Any, raw_rows: Any
) -> None:
    partner = desk.partner()
    key = _key(partner, "register-1")

    first = await endpoints.register_endpoint(deps, partner, _registration(), key=key)
    again = await endpoints.register_endpoint(deps, partner, _registration(), key=key)

    assert (again.replayed, again.value) == (True, first.value)
    stored = await raw_rows(desk.tenant, "idempotency_keys")
    assert len(stored) == 1
    assert first.value.secret not in stored[0]
    assert first.value.secret.removeprefix("whsec_") not in stored[0]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://10.0.0.7/hooks", "(private)"),
        ("https://127.0.0.1/hooks", "(loopback)"),
        ("https://169.254.169.254/latest/meta-data", "(cloud metadata)"),
        ("https://[::1]/hooks", "(loopback)"),
        (f"https://{PRIVATE_HOST}/hooks", f"{PRIVATE_HOST} resolves to an address"),
        ("https://erp.mixed.example/hooks", "(private)"),
        ("https://nowhere.partner.example/hooks", "does not resolve"),
    ],
)
async def test_a_url_deliveries_may_not_reach_is_refused_and_nothing_is_stored(
    deps: WebhookDependencies, desk: Any, url: str, why: str
) -> None:
    partner = desk.partner()

    with pytest.raises(EndpointRefused) as refused:
        await _register(deps, partner, url=url)

    assert why in refused.value.detail
    assert refused.value.status == 422
    assert (await endpoints.list_endpoints(deps, partner))[0] == []


async def test_http_and_loopback_are_refused_unless_local_endpoints_are_allowed(
    deps: WebhookDependencies, desk: Any
) -> None:
    partner = desk.partner()
    local = replace(deps, allow_local_endpoints=True)

    with pytest.raises(EndpointRefused, match="is https"):
        await _register(deps, partner, url=f"http://{PUBLIC_HOST}/hooks")
    receiver = await _register(local, partner, url="http://127.0.0.1:58999/hooks")
    plain = await _register(local, partner, url=f"http://{PUBLIC_HOST}/hooks")
    with pytest.raises(EndpointRefused, match="private"):
        await _register(local, partner, url="http://192.168.0.10/hooks")

    assert (receiver.url, plain.url) == (
        "http://127.0.0.1:58999/hooks",
        f"http://{PUBLIC_HOST}/hooks",
    )


async def test_filters_are_public_event_types(deps: WebhookDependencies, desk: Any) -> None:
    partner = desk.partner()

    everything = await _register(deps, partner, event_types=frozenset())
    with pytest.raises(InvalidInput, match=r"Unknown event types: trade\.teleported"):
        await _register(deps, partner, event_types=frozenset({"trade.teleported"}))
    with pytest.raises(InvalidInput, match=r"mandi\.trade\.confirmed"):
        await _register(deps, partner, event_types=frozenset({"mandi.trade.confirmed"}))
    with pytest.raises(InvalidInput, match="Unknown event types"):
        await endpoints.change_endpoint(
            deps,
            partner,
            everything.id,
            EndpointChanges(event_types=frozenset({"partner.registered"})),
            if_match=1,
        )

    assert everything.event_types == []
    made = await _register(
        deps, partner, event_types=frozenset({"trade.settled", "match.proposed"})
    )
    assert made.event_types == ["match.proposed", "trade.settled"]


async def test_a_partner_never_sees_another_partner_s_endpoints_nor_a_tenant_another_s(
    deps: WebhookDependencies, desk: Any
) -> None:
    mine, theirs = desk.partner(), desk.partner()
    own = await _register(deps, mine)
    other = await _register(deps, theirs)
    stranger = type(desk)().operator  # operator staff of another tenant

    mine_listed, _ = await endpoints.list_endpoints(deps, mine)
    tenant_listed, _ = await endpoints.list_endpoints(deps, desk.operator)
    theirs_by_operator, _ = await endpoints.list_endpoints(
        deps, desk.operator, partner_id=theirs.partner_id
    )
    assert [each.id for each in mine_listed] == [own.id]
    assert {each.id for each in tenant_listed} == {own.id, other.id}
    assert [each.id for each in theirs_by_operator] == [other.id]
    assert (await endpoints.list_endpoints(deps, stranger))[0] == []
    for principal in (mine, stranger):
        with pytest.raises(NotFound):
            await endpoints.endpoint(deps, principal, other.id)
    with pytest.raises(NotFound):
        await endpoints.list_endpoints(deps, mine, partner_id=theirs.partner_id)
    with pytest.raises(NotFound):
        await endpoints.disable_endpoint(deps, mine, other.id)
    with pytest.raises(NotFound):
        await endpoints.rotate_secret(deps, mine, other.id, timedelta(hours=1))
    with pytest.raises(NotFound):
        await endpoints.change_endpoint(
            deps, mine, other.id, EndpointChanges(description="mine now"), if_match=1
        )
    assert (await endpoints.endpoint(deps, theirs, other.id)).description == "ERP"


async def test_operator_staff_register_for_the_partner_they_name(
    deps: WebhookDependencies, desk: Any
) -> None:
    partner = uuid4()

    made = await endpoints.register_endpoint(
        deps, desk.operator, _registration(), partner_id=partner
    )

    assert made.value.partner_id == partner
    listed, _ = await endpoints.list_endpoints(deps, desk.partner(partner))
    assert [each.id for each in listed] == [made.value.id]


async def test_during_a_rotation_both_secrets_sign_and_after_it_the_new_one_alone(
    deps: WebhookDependencies, desk: Any, clock: FakeClock
) -> None:
    partner = desk.partner()
    made = await _register(deps, partner)
    old = WebhookSecret.parse(made.secret)
    clock.advance(timedelta(hours=1))

    rotated = await endpoints.rotate_secret(deps, partner, made.id, timedelta(hours=24), if_match=1)
    new = WebhookSecret.parse(rotated.value.secret)
    async with deps.uow(desk.tenant) as uow:
        endpoint = await uow.endpoints.get(made.id)
    assert endpoint is not None

    during = endpoint.signing_secrets(clock.now() + timedelta(hours=23))
    body, headers = _signed(during)
    assert during == (new, old)
    assert _verifies(old, body, headers)
    assert _verifies(new, body, headers)
    assert len(headers["webhook-signature"].split()) == 2

    after = endpoint.signing_secrets(clock.now() + timedelta(hours=24))
    body, headers = _signed(after)
    assert after == (new,)
    assert _verifies(new, body, headers)
    assert not _verifies(old, body, headers)
    assert [each.expires_at for each in rotated.value.secrets] == [
        clock.now() + timedelta(hours=24),
        None,
    ]


async def test_a_rotation_after_the_overlap_drops_the_old_secret_from_the_table(
    deps: WebhookDependencies, desk: Any, clock: FakeClock, raw_rows: Any
) -> None:
    partner = desk.partner()
    made = await _register(deps, partner)
    await endpoints.rotate_secret(deps, partner, made.id, timedelta(minutes=5))
    clock.advance(timedelta(minutes=10))

    last = await endpoints.rotate_secret(deps, partner, made.id, timedelta(0))

    assert [each.id for each in last.value.secrets] == [last.value.secret_id]
    assert len(await raw_rows(desk.tenant, "endpoint_secrets")) == 1


async def test_changes_name_the_version_and_a_new_url_is_checked_again(
    deps: WebhookDependencies, desk: Any, clock: FakeClock
) -> None:
    partner = desk.partner()
    made = await _register(deps, partner)
    moved = EndpointChanges(url=f"https://{PUBLIC_HOST}/v2/hooks", rate_limit=5)

    with pytest.raises(PreconditionRequired):
        await endpoints.change_endpoint(deps, partner, made.id, moved, if_match=None)
    with pytest.raises(PreconditionFailed):
        await endpoints.change_endpoint(deps, partner, made.id, moved, if_match=7)
    with pytest.raises(EndpointRefused, match="private"):
        await endpoints.change_endpoint(
            deps, partner, made.id, EndpointChanges(url=f"https://{PRIVATE_HOST}/"), if_match=1
        )
    clock.advance(timedelta(minutes=1))
    changed = await endpoints.change_endpoint(deps, partner, made.id, moved, if_match=1)

    assert (changed.value.url, changed.value.rate_limit, changed.value.version) == (
        f"https://{PUBLIC_HOST}/v2/hooks",
        5,
        2,
    )
    assert changed.value.updated_at == clock.now()
    assert (await endpoints.endpoint(deps, partner, made.id)) == changed.value


async def test_disabling_stops_an_endpoint_once_and_says_why(
    deps: WebhookDependencies, desk: Any, outbox_events: Any
) -> None:
    partner = desk.partner()
    made = await _register(deps, partner)

    disabled = await endpoints.disable_endpoint(deps, partner, made.id, "moving to a new ERP")
    again = await endpoints.disable_endpoint(deps, partner, made.id)

    assert (disabled.value.enabled, disabled.value.disabled_reason) == (
        False,
        "moving to a new ERP",
    )
    assert again.value == disabled.value
    types = [kind for kind, _, _ in await outbox_events(desk.tenant)]
    assert types.count("mandi.webhook_endpoint.disabled.v1") == 1
    enabled = await endpoints.change_endpoint(
        deps, partner, made.id, EndpointChanges(enabled=True), if_match=2
    )
    assert (enabled.value.enabled, enabled.value.disabled_reason) == (True, None)


async def test_events_name_the_endpoint_by_id_partner_and_host_and_carry_no_secret(
    deps: WebhookDependencies, desk: Any, outbox_events: Any, clock: FakeClock
) -> None:
    partner = desk.partner()
    made = await _register(deps, partner)
    rotated = await endpoints.rotate_secret(deps, partner, made.id, timedelta(hours=2))
    await endpoints.change_endpoint(
        deps, partner, made.id, EndpointChanges(enabled=False), if_match=2
    )

    events = await outbox_events(desk.tenant)

    assert [(kind, key) for kind, key, _ in events] == [
        ("mandi.webhook_endpoint.created.v1", str(made.id)),
        ("mandi.webhook_secret.rotated.v1", str(made.id)),
        ("mandi.webhook_endpoint.disabled.v1", str(made.id)),
    ]
    for _, _, payload in events:
        assert (payload["endpoint_id"], payload["partner_id"], payload["host"]) == (
            str(made.id),
            str(partner.partner_id),
            PUBLIC_HOST,
        )
    created, rotation, disabling = (payload for _, _, payload in events)
    assert rotation["secret_id"] == str(rotated.value.secret_id)
    assert rotation["previous_until"].startswith(
        (clock.now() + timedelta(hours=2)).date().isoformat()
    )
    assert disabling["cause"] == "requested"
    text = json.dumps([payload for _, _, payload in events])
    for secret in (made.secret, rotated.value.secret):
        assert secret.removeprefix("whsec_") not in text
    for part in ("token", "s3cr3t-query", "/mandi/hooks", "https://"):
        assert part not in text
    assert created["version"] == 1
