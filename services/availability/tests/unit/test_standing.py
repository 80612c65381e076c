"""Only an approved partner that is not suspended publishes; an unknown one does not."""

from __future__ import annotations

from uuid import uuid4

import pytest

from mandi_availability.domain.standing import PartnerStanding, Standing, require_may_publish
from mandi_errors import Conflict


def test_an_approved_partner_may_publish() -> None:
    require_may_publish(PartnerStanding(uuid4(), Standing.APPROVED, 3))


@pytest.mark.parametrize("standing", [Standing.SUSPENDED, Standing.REJECTED])
def test_a_suspended_or_rejected_partner_may_not(standing: Standing) -> None:
    with pytest.raises(Conflict, match="approved partner that is not suspended"):
        require_may_publish(PartnerStanding(uuid4(), standing, 3))


def test_a_partner_not_heard_of_may_not_publish() -> None:
    with pytest.raises(Conflict):
        require_may_publish(None)


def test_only_a_newer_version_supersedes_a_standing() -> None:
    standing = PartnerStanding(uuid4(), Standing.APPROVED, 3)
    assert standing.superseded_by(4)
    assert not standing.superseded_by(3)
    assert not standing.superseded_by(2)
