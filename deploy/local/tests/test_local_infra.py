"""The local infrastructure scripts refuse a taken port with one line that says what to do."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something else is listening on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize(
    ("script", "variable", "what"),
    [("redis.sh", "MANDI_REDIS_PORT", "Redis"), ("postgres.sh", "MANDI_PG_PORT", "PostgreSQL")],
)
def test_a_taken_port_stops_the_script_with_one_line(
    tmp_path: Path, taken_port: int, script: str, variable: str, what: str
) -> None:
    environment = {
        **os.environ,
        "MANDI_LOCAL_DIR": str(tmp_path / "local"),
        variable: str(taken_port),
    }
    result = subprocess.run(
        [str(SCRIPTS / script), "up"], capture_output=True, text=True, env=environment, check=False
    )
    assert result.returncode == 1
    expected = (
        f"error: port {taken_port} for {what} is taken by pytest (pid {os.getpid()}); "
        f"stop it or set {variable} to a free port"
    )
    assert result.stderr.strip().splitlines() == [expected]


def test_an_unknown_command_is_refused_with_its_usage() -> None:
    result = subprocess.run(
        [str(SCRIPTS / "infra.sh"), "sideways"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: usage:")
