"""The local infrastructure scripts: a taken port or a missing primary stops them with one line
that says what to do; `infra.sh up` with a replica gives each service a read URL on the standby."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from mandi_testing.processes import free_port

SCRIPTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def local_dir(tmp_path: Path) -> Iterator[Path]:
    """A .local of the test's own; the data folders a script made for it (under /var/tmp when
    the test's folder is private) are removed afterwards."""
    local = tmp_path / "local"
    yield local
    for data in ("postgres-replica", "postgres"):
        shutil.rmtree((local / data).resolve(), ignore_errors=True)


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
    local_dir: Path, taken_port: int, script: str, variable: str, what: str
) -> None:
    environment = {
        **os.environ,
        "MANDI_LOCAL_DIR": str(local_dir),
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


def test_a_replica_without_its_primary_stops_with_one_line(local_dir: Path) -> None:
    port = free_port()
    environment = {
        **os.environ,
        "MANDI_LOCAL_DIR": str(local_dir),
        "MANDI_PG_PORT": str(port),
    }
    result = subprocess.run(
        [str(SCRIPTS / "replica.sh"), "up"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 1
    expected = f"error: the primary PostgreSQL does not run on 127.0.0.1:{port}: start it first"
    assert result.stderr.strip().splitlines() == [f"{expected} (make infra-up)"]


def _infra(action: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPTS / "infra.sh"), action, "postgres"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


def _settings(env_file: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in env_file.read_text().splitlines())


async def _read_as_the_service(url: str, password: str) -> tuple[bool, str]:
    connection = await asyncpg.connect(url, password=password)
    try:
        row = await connection.fetchrow("SELECT pg_is_in_recovery(), current_user")
        return row[0], row[1]
    finally:
        await connection.close()


@pytest.mark.integration
def test_infra_up_with_a_replica_gives_every_service_a_read_url_on_the_standby(
    local_dir: Path,
) -> None:
    primary_port, replica_port = free_port(), free_port()
    environment = {
        **os.environ,
        "MANDI_LOCAL_DIR": str(local_dir),
        "MANDI_PG_PORT": str(primary_port),
        "MANDI_PG_REPLICA_PORT": str(replica_port),
        "MANDI_PG_REPLICA": "1",
    }
    try:
        started = _infra("up", environment)
        assert started.returncode == 0, started.stderr
        assert f"postgres replica: started on 127.0.0.1:{replica_port}" in started.stdout

        settings = _settings(local_dir / "env" / "auth.env")
        read_url = f"postgresql://mandi_auth_app@127.0.0.1:{replica_port}/mandi_auth"
        assert settings["MANDI_AUTH_READ_DATABASE_URL"] == read_url
        password = Path(settings["MANDI_AUTH_DATABASE_PASSWORD_FILE"]).read_text().strip()
        assert asyncio.run(_read_as_the_service(read_url, password)) == (True, "mandi_auth_app")

        again = _infra("up", environment)
        assert again.returncode == 0, again.stderr
        assert f"postgres replica: running on 127.0.0.1:{replica_port}" in again.stdout

        status = _infra("status", environment)
        assert status.returncode == 0
        assert "s behind the primary" in status.stdout
    finally:
        stopped = _infra("down", environment)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.splitlines() == ["postgres replica: stopped", "postgres: stopped"]
