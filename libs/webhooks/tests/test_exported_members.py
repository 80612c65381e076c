import subprocess
import sys

import mandi_webhooks
import mandi_webhooks.http
from mandi_testing import assert_public_surface


def test_public_surface_is_all() -> None:
    assert_public_surface(mandi_webhooks)


def test_http_public_surface_is_all() -> None:
    assert_public_surface(mandi_webhooks.http)


def test_the_core_package_loads_no_web_framework() -> None:
    """A service's domain may import it: only `mandi_webhooks.http` brings FastAPI in."""
    probe = "import sys, mandi_webhooks; print(sorted({'fastapi', 'starlette'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
