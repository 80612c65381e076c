"""Where the tests' PostgreSQL, Kafka and Redis are: given, started locally, or in containers.

Order of preference, per component: the environment variable (DATABASE_URL,
KAFKA_BOOTSTRAP_SERVERS, REDIS_URL) when set; else the project's own local processes
(deploy/local/infra.sh, which installs and starts them); else, where a Docker engine runs,
testcontainers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Infrastructure", "InfrastructureUnavailable", "find_infrastructure", "project_root"]

_VARIABLES = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")


class InfrastructureUnavailable(RuntimeError):
    """Neither the environment, the local scripts nor a Docker engine gave a component."""


@dataclass(frozen=True)
class Infrastructure:
    """Admin-level addresses: a superuser's PostgreSQL URL, Kafka's bootstrap, Redis's URL."""

    postgres_admin_url: str
    kafka_bootstrap_servers: str
    redis_url: str


def _find_project_root() -> Path | None:
    for start in (Path.cwd(), Path(__file__).resolve()):
        for directory in (start, *start.parents):
            if (directory / "deploy" / "local" / "infra.sh").exists():
                return directory
    return None


def project_root() -> Path:
    """The checkout this code runs from (the directory holding deploy/local/)."""
    root = _find_project_root()
    if root is None:
        raise InfrastructureUnavailable("not inside a Mandi checkout: deploy/local/ not found")
    return root


def _read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.startswith("#")}


def _start_local(root: Path) -> dict[str, str]:
    result = subprocess.run(
        [str(root / "deploy" / "local" / "infra.sh"), "up"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        last_line = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
        raise InfrastructureUnavailable(f"deploy/local/infra.sh up failed: {' '.join(last_line)}")
    return _read_env_file(root / ".local" / "infra.env")


def _docker_engine_runs() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run([docker, "info"], capture_output=True, check=False)
    return probe.returncode == 0


def _start_containers(stack: ExitStack) -> dict[str, str]:
    from testcontainers.kafka import KafkaContainer  # noqa: PLC0415 - only where Docker runs
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415
    from testcontainers.redis import RedisContainer  # noqa: PLC0415

    postgres = stack.enter_context(PostgresContainer("postgres:16-alpine", driver=None))
    kafka = stack.enter_context(KafkaContainer("confluentinc/cp-kafka:7.7.1").with_kraft())
    redis = stack.enter_context(RedisContainer("redis:7-alpine"))
    host, port = redis.get_container_host_ip(), redis.get_exposed_port(6379)
    return {
        "DATABASE_URL": postgres.get_connection_url(),
        "KAFKA_BOOTSTRAP_SERVERS": kafka.get_bootstrap_server(),
        "REDIS_URL": f"redis://{host}:{port}/0",
    }


def _missing_from_environment() -> list[str]:
    return [name for name in _VARIABLES if not os.environ.get(name)]


def find_infrastructure(stack: ExitStack) -> Infrastructure:
    """Resolves every component; containers it starts stop when `stack` closes."""
    values = {name: os.environ[name] for name in _VARIABLES if os.environ.get(name)}
    if _missing_from_environment():
        values = {**_provide(stack), **values}
    return Infrastructure(
        values["DATABASE_URL"], values["KAFKA_BOOTSTRAP_SERVERS"], values["REDIS_URL"]
    )


def _provide(stack: ExitStack) -> dict[str, str]:
    root = _find_project_root()
    local_error: InfrastructureUnavailable | None = None
    if root is not None:
        try:
            return _start_local(root)
        except InfrastructureUnavailable as error:
            local_error = error
    if _docker_engine_runs():
        return _start_containers(stack)
    reason = str(local_error) if local_error else "deploy/local/infra.sh not found"
    raise InfrastructureUnavailable(
        f"no test infrastructure: set {', '.join(_missing_from_environment())}; {reason}; "
        "and no Docker engine for testcontainers"
    )
