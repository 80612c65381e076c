from uuid import uuid4

import mandi_contracts
from mandi_contracts import EVENTS, UserCreated, auth
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
    for name in auth.__all__:
        fields = set(getattr(auth, name).model_fields)
        assert not fields & {"email", "password", "secret", "token", "key"}, name
