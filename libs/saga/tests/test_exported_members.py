import mandi_saga
from mandi_testing import assert_public_surface


def test_public_surface_is_all() -> None:
    assert_public_surface(mandi_saga)
