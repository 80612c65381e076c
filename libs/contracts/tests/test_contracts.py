import re
from uuid import uuid4

import mandi_contracts
from mandi_contracts import EVENTS, UserCreated, auth, partners, webhook
from mandi_messaging import Event
from mandi_testing import assert_public_surface


def test_public_surface_is_all() -> None:
    assert_public_surface(mandi_contracts)


def test_every_event_round_trips_through_the_registry() -> None:
    event = UserCreated(
        tenant_id=uuid4(),
        user_id=uuid4(),
        user_type="external",
        partner_id=uuid4(),
        roles=["partner_admin"],
    )
    assert EVENTS.decode(EVENTS.type_name(event), event.model_dump_json().encode()) == event


def test_auth_events_carry_no_email_or_secret_fields() -> None:
    for model in auth.AUTH_EVENTS:
        assert not set(model.model_fields) & {"email", "password", "secret", "token", "key"}


def test_webhook_events_carry_no_secret_and_no_url() -> None:
    # An endpoint is named by its host: a URL's path or query may hold the receiver's token.
    for model in webhook.WEBHOOK_EVENTS:
        assert not set(model.model_fields) & {"secret", "url", "path", "query", "token", "key"}


def test_each_service_s_list_of_published_events_holds_every_event_of_its_module() -> None:
    for module, published in (
        (auth, auth.AUTH_EVENTS),
        (partners, partners.PARTNER_EVENTS),
        (webhook, webhook.WEBHOOK_EVENTS),
    ):
        exported = {getattr(module, name) for name in module.__all__}
        events = {item for item in exported if isinstance(item, type) and issubclass(item, Event)}
        assert events == set(published), module.__name__


def _registered() -> list[tuple[str, type]]:
    return [(model.event_type, model) for model in EVENTS.models()]


def test_every_type_follows_the_one_naming_scheme() -> None:
    # docs/events.md: mandi.<aggregate>.<event>.v<N>, the class named for aggregate and event.
    scheme = re.compile(
        r"^mandi\.(?P<aggregate>[a-z][a-z0-9_]*)\.(?P<event>[a-z][a-z0-9_]*)\.v\d+$"
    )
    registered = _registered()
    assert registered
    for type_name, model in registered:
        match = scheme.fullmatch(type_name)
        assert match, type_name
        words = f"{match['aggregate']}_{match['event']}".split("_")
        assert model.__name__ == "".join(word.capitalize() for word in words), type_name
