"""A PostgreSQL cluster of a test's own, to stop and start without disturbing the others.

Started by the project's own scripts (deploy/local/postgres.sh, and replica.sh for a streaming
replica of it) with its data under a folder of the test's and on free ports, so a test may
restart it under load, or stop its replica, as an operator would.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import asyncpg
from sqlalchemy.engine import make_url

from mandi_testing.infrastructure import project_root
from mandi_testing.processes import ServiceFailed, free_port

__all__ = ["LocalPostgres", "running_local_postgres"]


@dataclass(frozen=True)
class LocalPostgres:
    """A cluster started by deploy/local/postgres.sh under `directory`, on `port`.

    With a `replica_port`, deploy/local/replica.sh runs a streaming replica of it there.
    """

    directory: Path
    port: int
    replica_port: int | None = None

    @property
    def admin_url(self) -> str:
        """The superuser's URL, to make databases and roles."""
        password = (self.directory / "secrets" / "postgres.password").read_text().strip()
        return f"postgresql://postgres:{quote(password, safe='')}@127.0.0.1:{self.port}/postgres"

    @property
    def replica_admin_url(self) -> str:
        """The superuser's URL on the replica (roles replicate with their passwords)."""
        return self.on_replica(self.admin_url)

    def on_replica(self, url: str) -> str:
        """The same URL (role, password, database) on the replica instead of the primary."""
        if self.replica_port is None:
            raise ValueError("this cluster runs without a replica")
        return make_url(url).set(port=self.replica_port).render_as_string(hide_password=False)

    def stop(self) -> None:
        """Shuts the server down (fast: sessions are ended, as a restart ends them)."""
        self._script("postgres.sh", "down")

    def start(self) -> None:
        """Starts the server and returns once it accepts connections."""
        self._script("postgres.sh", "up")

    def stop_replica(self) -> None:
        """Shuts the replica down (fast); the primary goes on."""
        self._script("replica.sh", "down")

    def start_replica(self) -> None:
        """Starts the replica (copying the primary the first time) once it accepts reads."""
        self._script("replica.sh", "up")

    async def wait_for_replay(self, timeout: float = 10.0) -> None:
        """Returns once the replica has replayed everything committed on the primary so far."""
        primary = await asyncpg.connect(self.admin_url)
        try:
            written = await primary.fetchval("SELECT pg_current_wal_lsn()")
        finally:
            await primary.close()
        replica = await asyncpg.connect(self.replica_admin_url)
        try:
            deadline = time.monotonic() + timeout
            replayed = "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn"
            while not await replica.fetchval(replayed, written):
                if time.monotonic() > deadline:
                    raise AssertionError(f"the replica did not replay {written} in {timeout} s")
                await asyncio.sleep(0.02)
        finally:
            await replica.close()

    def _script(self, script: str, action: str) -> None:
        environment = {
            **os.environ,
            "MANDI_LOCAL_DIR": str(self.directory),
            "MANDI_PG_PORT": str(self.port),
        }
        if self.replica_port is not None:
            environment["MANDI_PG_REPLICA_PORT"] = str(self.replica_port)
        path = project_root() / "deploy" / "local" / script
        result = subprocess.run(
            [str(path), action], env=environment, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ServiceFailed(f"{script} {action}: {result.stderr.strip()}")


def _distinct_free_port(taken: int) -> int:
    port = free_port()
    while port == taken:
        port = free_port()
    return port


@contextmanager
def running_local_postgres(directory: Path, *, replica: bool = False) -> Iterator[LocalPostgres]:
    """A cluster of its own, and a streaming replica of it if asked, started for the block;
    then both are stopped and their data removed."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cluster = LocalPostgres(directory, port, _distinct_free_port(port) if replica else None)
    try:
        cluster.start()
        if replica:
            cluster.start_replica()
        yield cluster
    finally:
        _stop_and_remove(cluster)


def _stop_and_remove(cluster: LocalPostgres) -> None:
    try:
        if cluster.replica_port is not None:
            cluster.stop_replica()
    finally:
        cluster.stop()
        for data in ("postgres-replica", "postgres"):
            # Elsewhere (under /var/tmp) when the folder is private.
            shutil.rmtree((cluster.directory / data).resolve(), ignore_errors=True)
        shutil.rmtree(cluster.directory, ignore_errors=True)
