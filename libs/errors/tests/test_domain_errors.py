import subprocess
import sys

import pytest

from mandi_errors import (
    Conflict,
    DependencyUnavailable,
    DomainError,
    NotFound,
    RateLimited,
    problem_type,
)

IMPORTS_OF_THE_ROOT = """
import sys
import mandi_errors
print(sorted({name.split(".")[0] for name in sys.modules}))
"""


def test_domain_code_can_raise_errors_without_loading_a_web_framework() -> None:
    finished = subprocess.run(
        [sys.executable, "-c", IMPORTS_OF_THE_ROOT],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )

    loaded = finished.stdout
    for framework in ("fastapi", "starlette", "pydantic", "mandi_observability"):
        assert f"'{framework}'" not in loaded


def test_an_error_carries_its_status_type_and_detail() -> None:
    error = NotFound("Availability 42 does not exist.")

    assert error.status == 404
    assert error.type_uri == "urn:mandi:problem:not-found"
    assert error.detail == str(error) == "Availability 42 does not exist."


def test_the_detail_defaults_to_the_title() -> None:
    assert Conflict().detail == "Conflict"


def test_extensions_cannot_be_changed_after_raising() -> None:
    error = Conflict("Version 3 is current.", extensions={"current_version": 3})

    with pytest.raises(TypeError):
        error.extensions["current_version"] = 4  # type: ignore[index]


def test_retryable_errors_say_when_to_retry() -> None:
    assert RateLimited(retry_after_seconds=30).retry_after_seconds == 30
    assert DependencyUnavailable().retry_after_seconds is None
    assert DomainError().retry_after_seconds is None


def test_problem_types_are_mandi_urns() -> None:
    assert problem_type("rate-limited") == "urn:mandi:problem:rate-limited"
