"""Services and the gateway run the way `make dev` runs them: as real processes on free ports.

A service is `python -m mandi_<name> migrate`, then `... serve` in its own process group; the
gateway is nginx configured by deploy/local/gateway.sh. Each is stopped, whole, on exit. A
serving process may be stopped and started again meanwhile (`ServiceProcess`), as an outage.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

from mandi_testing.infrastructure import Infrastructure, project_root
from mandi_testing.postgres import TestDatabase

__all__ = [
    "RunningGateway",
    "RunningService",
    "ServiceFailed",
    "ServiceProcess",
    "free_port",
    "running_consumers",
    "running_gateway",
    "running_service",
    "service_environment",
    "serving_process",
    "stop_process_group",
]

_READY_SECONDS = 60.0


class ServiceFailed(RuntimeError):
    """A process did not start or become ready; the message ends with its log's last lines."""


@dataclass(frozen=True)
class RunningService:
    """A service process: where it listens and the settings it was started with."""

    name: str
    url: str
    port: int
    environment: Mapping[str, str]
    log: Path


@dataclass(frozen=True)
class RunningGateway:
    """An nginx gateway: its base URL and the directory holding its config and logs."""

    url: str
    port: int
    state_dir: Path

    @property
    def access_log(self) -> Path:
        """nginx's JSON access log."""
        return self.state_dir / "logs" / "access.log"


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _without_password(url: str) -> tuple[str, str | None]:
    # Settings refuse a password inside a URL; it travels in its own variable.
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), parts.password


def service_environment(
    name: str, infrastructure: Infrastructure, database: TestDatabase, port: int
) -> dict[str, str]:
    """The MANDI_<NAME>_* settings that point a service at the test infrastructure."""
    prefix = f"MANDI_{name.upper().replace('-', '_')}_"
    app_url, app_password = _without_password(database.app_url)
    owner_url, owner_password = _without_password(database.owner_url)
    redis_url, redis_password = _without_password(infrastructure.redis_url)
    settings = {
        "ENVIRONMENT": "test",
        "HTTP_PORT": str(port),
        "DATABASE_URL": app_url,
        "DATABASE_PASSWORD": app_password or "",
        "MIGRATION_DATABASE_URL": owner_url,
        "MIGRATION_DATABASE_PASSWORD": owner_password or "",
        "KAFKA_BOOTSTRAP_SERVERS": infrastructure.kafka_bootstrap_servers,
        "REDIS_URL": redis_url,
        "REDIS_PASSWORD": redis_password or "",
    }
    return {prefix + key: value for key, value in settings.items() if value}


def _last_lines(path: Path, count: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-count:])
    except OSError:
        return "(no log)"


def _is_ready(url: str) -> bool:
    try:
        with urlopen(url, timeout=1) as answer:  # noqa: S310 - a local http URL we built
            return bool(answer.status == HTTPStatus.OK)
    except (URLError, OSError):
        return False


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + _READY_SECONDS
    while not _is_ready(url):
        if process.poll() is not None:
            raise ServiceFailed(f"{url} exited with {process.returncode}:\n{_last_lines(log)}")
        if time.monotonic() > deadline:
            raise ServiceFailed(f"{url} not ready in {_READY_SECONDS} s:\n{_last_lines(log)}")
        time.sleep(0.1)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's group, SIGKILL if it has not ended in 15 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _module_command(name: str, command: str) -> list[str]:
    return [sys.executable, "-m", f"mandi_{name.replace('-', '_')}", command]


class ServiceProcess:
    """A service's `serve` process, which a test may stop and start again: on the same port,
    with the same settings and database, as a restart after an outage would."""

    def __init__(self, service: RunningService) -> None:
        self.service = service
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the process was started and has not been stopped (or ended) since."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Serves; returns once `/readyz` answers 200 (ServiceFailed, process stopped, if it
        does not within 60 s)."""
        if self.running:
            raise RuntimeError(f"{self.service.name} is already running")
        with self.service.log.open("ab") as output:
            self._process = subprocess.Popen(
                _module_command(self.service.name, "serve"),
                env={**os.environ, **self.service.environment},
                stdout=output,
                stderr=output,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            _wait_ready(self._process, f"{self.service.url}/readyz", self.service.log)
        except ServiceFailed:
            self.stop()
            raise

    def stop(self) -> None:
        """Stops the process, whole (SIGTERM, SIGKILL after 15 s); nothing if it is not running."""
        if self._process is not None:
            stop_process_group(self._process)
            self._process = None

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """Stopped until the block ends, then started again and ready, even if the block fails."""
        self.stop()
        try:
            yield
        finally:
            self.start()


def _migrated(name: str, environment: Mapping[str, str], log: Path) -> None:
    with log.open("ab") as output:
        migrated = subprocess.run(
            _module_command(name, "migrate"),
            env={**os.environ, **environment},
            stdout=output,
            stderr=output,
            check=False,
        )
    if migrated.returncode != 0:
        raise ServiceFailed(f"{name} migrate exited {migrated.returncode}:\n{_last_lines(log)}")


@contextmanager
def serving_process(
    name: str, environment: Mapping[str, str], port: int, log_dir: Path
) -> Iterator[ServiceProcess]:
    """Migrates the service's database and serves it until the block ends, then stops it; a
    test may stop and start it meanwhile."""
    log = log_dir / f"{name}.log"
    _migrated(name, environment, log)
    service = RunningService(name, f"http://127.0.0.1:{port}", port, dict(environment), log)
    process = ServiceProcess(service)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def running_service(
    name: str, environment: Mapping[str, str], port: int, log_dir: Path
) -> Iterator[RunningService]:
    """Migrates the service's database, serves it until the block ends, then stops it."""
    with serving_process(name, environment, port, log_dir) as process:
        yield process.service


@contextmanager
def running_consumers(name: str, environment: Mapping[str, str], log_dir: Path) -> Iterator[Path]:
    """The service's consumer groups in a process of their own (`consume`), until the block
    ends; yields its log. Ready once the groups have joined (it logs `consuming`)."""
    log = log_dir / f"{name}-consume.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            _module_command(name, "consume"),
            env={**os.environ, **environment},
            stdout=output,
            stderr=output,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + _READY_SECONDS
        while '"consuming"' not in log.read_text(errors="replace"):
            if process.poll() is not None:
                raise ServiceFailed(
                    f"{name} consume exited {process.returncode}:\n{_last_lines(log)}"
                )
            if time.monotonic() > deadline:
                raise ServiceFailed(f"{name} consume not ready in {_READY_SECONDS} s")
            time.sleep(0.1)
        yield log
    finally:
        stop_process_group(process)


def _gateway_script(action: str, environment: Mapping[str, str], state_dir: Path) -> None:
    script = project_root() / "deploy" / "local" / "gateway.sh"
    result = subprocess.run(
        [str(script), action],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        error_log = _last_lines(state_dir / "logs" / "error.log")
        raise ServiceFailed(f"gateway.sh {action}: {result.stderr.strip()}\n{error_log}")


@contextmanager
def running_gateway(
    upstream_ports: Mapping[str, int],
    gateway_secret_file: Path,
    state_dir: Path,
    *,
    per_ip_rate: int = 1000,
    per_ip_burst: int = 2000,
) -> Iterator[RunningGateway]:
    """nginx in front of the given services (name → port), configured by gateway.sh."""
    port = free_port()
    environment = {
        "MANDI_GATEWAY_PORT": str(port),
        "MANDI_GATEWAY_DIR": str(state_dir),
        "MANDI_GATEWAY_SECRET_FILE": str(gateway_secret_file),
        "MANDI_GATEWAY_PER_IP_RATE": str(per_ip_rate),
        "MANDI_GATEWAY_PER_IP_BURST": str(per_ip_burst),
        **{
            f"MANDI_{name.upper().replace('-', '_')}_HTTP_PORT": str(upstream)
            for name, upstream in upstream_ports.items()
        },
    }
    _gateway_script("up", environment, state_dir)
    try:
        yield RunningGateway(f"http://127.0.0.1:{port}", port, state_dir)
    finally:
        _gateway_script("down", environment, state_dir)
