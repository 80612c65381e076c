import mandi_errors
import mandi_errors.http
from mandi_testing import assert_public_surface


def test_public_surface_is_all() -> None:
    assert_public_surface(mandi_errors)


def test_http_public_surface_is_all() -> None:
    assert_public_surface(mandi_errors.http)
