"""A PostgreSQL cluster of a test's own, to stop and start without disturbing the others.

Started by the project's own script (deploy/local/postgres.sh) with its data under a folder of
the test's and on a free port, so a test may restart it under load as an operator would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from mandi_testing.infrastructure import project_root
from mandi_testing.processes import ServiceFailed, free_port

__all__ = ["LocalPostgres", "running_local_postgres"]


@dataclass(frozen=True)
class LocalPostgres:
    """A cluster started by deploy/local/postgres.sh under `directory`, on `port`."""

    directory: Path
    port: int

    @property
    def admin_url(self) -> str:
        """The superuser's URL, to make databases and roles."""
        password = (self.directory / "secrets" / "postgres.password").read_text().strip()
        return f"postgresql://postgres:{quote(password, safe='')}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Shuts the server down (fast: sessions are ended, as a restart ends them)."""
        self._script("down")

    def start(self) -> None:
        """Starts the server and returns once it accepts connections."""
        self._script("up")

    def _script(self, action: str) -> None:
        environment = {
            **os.environ,
            "MANDI_LOCAL_DIR": str(self.directory),
            "MANDI_PG_PORT": str(self.port),
        }
        script = project_root() / "deploy" / "local" / "postgres.sh"
        result = subprocess.run(
            [str(script), action], env=environment, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ServiceFailed(f"postgres.sh {action}: {result.stderr.strip()}")


@contextmanager
def running_local_postgres(directory: Path) -> Iterator[LocalPostgres]:
    """A cluster of its own, started for the block, then stopped and its data removed."""
    directory.mkdir(parents=True, exist_ok=True)
    cluster = LocalPostgres(directory, free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        data = (directory / "postgres").resolve()  # elsewhere when the folder is private
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(directory, ignore_errors=True)
