"""The platform as `make dev` runs it, for end-to-end tests and benchmarks: services behind nginx.

Auth always runs; the partners service (with a fake of the KYC verifier it calls), the
availability service, the risk service (with a fake of the credit bureau it calls), the matching
service and the webhook service, each when a database is given for it. A test may stop a
service's serving process and start it again (`RunningPlatform.stopped`), to show what an outage
does.

Secrets are generated for the run, as deploy/local/service_env.sh generates them for `make dev`;
the gateway secret is written to a file nginx's config is rendered from.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mandi_config import declared_secrets, new_secret_value
from mandi_config.env_names import env_prefix
from mandi_testing.fake_bureau import FakeBureau, running_fake_bureau
from mandi_testing.fake_verifier import FakeVerifier, running_fake_verifier
from mandi_testing.infrastructure import Infrastructure
from mandi_testing.postgres import TestDatabase
from mandi_testing.processes import (
    RunningGateway,
    RunningService,
    ServiceFailed,
    ServiceProcess,
    free_port,
    running_consumers,
    running_gateway,
    running_service,
    service_environment,
    serving_process,
)

__all__ = [
    "RunningPlatform",
    "running_gateway_for",
    "running_platform",
    "service_command",
    "service_secrets",
    "settings_values",
]


@dataclass(frozen=True)
class RunningPlatform:
    """The auth service, the gateway in front of it, and the secrets they share; the other
    services and the fakes they call, when they run."""

    auth: RunningService
    gateway: RunningGateway
    secrets: Mapping[str, str]
    partners: RunningService | None = None
    verifier: FakeVerifier | None = None
    availability: RunningService | None = None
    risk: RunningService | None = None
    bureau: FakeBureau | None = None
    matching: RunningService | None = None
    webhook: RunningService | None = None
    audit: RunningService | None = None
    # The serving processes a test may stop and start again, by service name.
    processes: Mapping[str, ServiceProcess] = field(default_factory=dict)

    @property
    def gateway_secret(self) -> str:
        """The secret that makes a service trust principal headers."""
        return self.secrets["MANDI_AUTH_GATEWAY_SECRET"]

    def create_tenant(self, slug: str, admin_email: str, admin_password: str) -> None:
        """Runs `python -m mandi_auth create-tenant` as an operator would."""
        self.auth_command(
            "create-tenant",
            *("--slug", slug, "--name", slug, "--admin-email", admin_email),
            "--admin-password-stdin",
            stdin=admin_password + "\n",
        )

    def auth_command(self, *arguments: str, stdin: str | None = None) -> str:
        """Runs `python -m mandi_auth <arguments>` with the auth service's settings; its output."""
        return service_command(self.auth, *arguments, stdin=stdin)

    def risk_command(self, *arguments: str) -> str:
        """Runs `python -m mandi_risk <arguments>` (`train …`) with the risk service's settings;
        its output."""
        assert self.risk is not None, "the platform runs no risk service"
        return service_command(self.risk, *arguments)

    def stopped(self, service: str) -> AbstractContextManager[None]:
        """The service's process stopped until the block ends, then started again (same port,
        settings and database) and ready: `with platform.stopped("risk"): ...`."""
        if service not in self.processes:
            raise KeyError(f"the platform does not run {service} as a process it can restart")
        return self.processes[service].stopped()


def service_command(service: RunningService, *arguments: str, stdin: str | None = None) -> str:
    """Runs `python -m mandi_<name> <arguments>` with the running service's settings, as an
    operator would beside it; its output (ServiceFailed, with its errors, if it fails)."""
    module = f"mandi_{service.name.replace('-', '_')}"
    result = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        input=stdin,
        env={**os.environ, **service.environment},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ServiceFailed(f"{module} {arguments[0]} failed: {result.stderr.strip()}")
    return result.stdout


GATEWAY_SECRET_FILE = "gateway.secret"  # noqa: S105 - the file's name, not a secret
VERIFIER_TOKEN_FILE = "fake-verifier.token"  # noqa: S105 - the file's name
BUREAU_TOKEN_FILE = "fake-bureau.token"  # noqa: S105 - the file's name


def service_secrets(service: str, shared: Mapping[str, str] | None = None) -> dict[str, str]:
    """Fresh values of every secret the service's settings declare, as its variables.

    A secret shared through a file (the gateway's) takes its value from `shared`, by file name.
    """
    settings = importlib.import_module(f"mandi_{service}.config").Settings
    prefix = env_prefix(settings)
    return {
        f"{prefix}{found.setting.upper()}": (shared or {}).get(found.file)
        or new_secret_value(found.kind)
        for found in declared_secrets(settings, service)
    }


def settings_values(
    service: str,
    infrastructure: Infrastructure,
    database: TestDatabase,
    environment: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A service's settings by field name, pointed at the test infrastructure and `database`,
    with fresh secrets: `Settings(**settings_values(...))`. `environment` adds or replaces
    variables (`MANDI_<SERVICE>_…`)."""
    variables = {
        **service_environment(service, infrastructure, database, port=0),
        **service_secrets(service),
        **(environment or {}),
    }
    prefix = env_prefix(importlib.import_module(f"mandi_{service}.config").Settings)
    return {name.removeprefix(prefix).lower(): value for name, value in variables.items()}


def _as_environment(settings: Mapping[str, object], prefix: str = "MANDI_AUTH_") -> dict[str, str]:
    # Nested settings (plans, limits) travel as JSON, as pydantic-settings reads them.
    return {
        f"{prefix}{name.upper()}": value if isinstance(value, str) else json.dumps(value)
        for name, value in settings.items()
    }


def _running_partners(
    stack: ExitStack,
    infrastructure: Infrastructure,
    database: TestDatabase,
    workdir: Path,
    *,
    gateway_secret: str,
    settings: Mapping[str, object],
) -> tuple[RunningService, FakeVerifier]:
    token = secrets.token_urlsafe(24)
    verifier = stack.enter_context(running_fake_verifier(token, workdir / "verifier"))
    port = free_port()
    shared = {GATEWAY_SECRET_FILE: gateway_secret, VERIFIER_TOKEN_FILE: token}
    environment = {
        **service_environment("partners", infrastructure, database, port),
        **service_secrets("partners", shared),
        "MANDI_PARTNERS_VERIFIER_URL": verifier.url,
        # Its consumers in a process of their own, as a deployment may scale them apart.
        "MANDI_PARTNERS_CONSUMERS_IN_SERVE": "false",
        "MANDI_PARTNERS_CONSUME_METRICS_PORT": str(free_port()),
        **_as_environment(settings, "MANDI_PARTNERS_"),
    }
    service = stack.enter_context(running_service("partners", environment, port, workdir))
    stack.enter_context(running_consumers("partners", environment, workdir))
    return service, verifier


def _running_availability(
    stack: ExitStack,
    infrastructure: Infrastructure,
    database: TestDatabase,
    workdir: Path,
    *,
    gateway_secret: str,
) -> RunningService:
    port = free_port()
    environment = {
        **service_environment("availability", infrastructure, database, port),
        **service_secrets("availability", {GATEWAY_SECRET_FILE: gateway_secret}),
    }
    return stack.enter_context(running_service("availability", environment, port, workdir))


def _running_risk(
    stack: ExitStack,
    infrastructure: Infrastructure,
    database: TestDatabase,
    workdir: Path,
    *,
    gateway_secret: str,
    settings: Mapping[str, object],
) -> tuple[ServiceProcess, FakeBureau]:
    token = secrets.token_urlsafe(24)
    bureau = stack.enter_context(running_fake_bureau(token, workdir / "bureau"))
    port = free_port()
    shared = {GATEWAY_SECRET_FILE: gateway_secret, BUREAU_TOKEN_FILE: token}
    environment = {
        **service_environment("risk", infrastructure, database, port),
        **service_secrets("risk", shared),
        "MANDI_RISK_BUREAU_URL": bureau.url,
        **_as_environment(settings, "MANDI_RISK_"),
    }
    return stack.enter_context(serving_process("risk", environment, port, workdir)), bureau


def _running_plain(
    name: str,
    stack: ExitStack,
    infrastructure: Infrastructure,
    database: TestDatabase,
    workdir: Path,
    *,
    gateway_secret: str,
    settings: Mapping[str, object],
) -> ServiceProcess:
    """A service that needs nothing but its database and the gateway's secret."""
    port = free_port()
    environment = {
        **service_environment(name, infrastructure, database, port),
        **service_secrets(name, {GATEWAY_SECRET_FILE: gateway_secret}),
        **_as_environment(settings, f"MANDI_{name.upper()}_"),
    }
    return stack.enter_context(serving_process(name, environment, port, workdir))


@contextmanager
def running_platform(
    infrastructure: Infrastructure,
    auth_database: TestDatabase,
    workdir: Path,
    *,
    auth_settings: Mapping[str, object] | None = None,
    partners_database: TestDatabase | None = None,
    partners_settings: Mapping[str, object] | None = None,
    availability_database: TestDatabase | None = None,
    risk_database: TestDatabase | None = None,
    risk_settings: Mapping[str, object] | None = None,
    matching_database: TestDatabase | None = None,
    matching_settings: Mapping[str, object] | None = None,
    webhook_database: TestDatabase | None = None,
    webhook_settings: Mapping[str, object] | None = None,
    audit_database: TestDatabase | None = None,
    audit_settings: Mapping[str, object] | None = None,
    per_ip_rate: int = 1000,
    per_ip_burst: int = 2000,
) -> Iterator[RunningPlatform]:
    """Auth (and partners, availability, risk, matching, webhook and audit, each given a
    database),
    migrated and serving, nginx in front; all stopped when it ends. `*_settings` are a service's
    settings by field name (`{"step_deadline_seconds": 3}`)."""
    generated = service_secrets("auth")
    secret_file = workdir / "gateway.secret"
    secret_file.write_text(generated["MANDI_AUTH_GATEWAY_SECRET"])
    secret_file.chmod(0o600)
    port = free_port()
    environment = {
        **service_environment("auth", infrastructure, auth_database, port),
        **generated,
        **_as_environment(auth_settings or {}),
    }
    with ExitStack() as stack:
        auth = stack.enter_context(running_service("auth", environment, port, workdir))
        upstreams = {"auth": port}
        partners = verifier = availability = bureau = None
        processes: dict[str, ServiceProcess] = {}
        if partners_database is not None:
            partners, verifier = _running_partners(
                stack,
                infrastructure,
                partners_database,
                workdir,
                gateway_secret=generated["MANDI_AUTH_GATEWAY_SECRET"],
                settings=partners_settings or {},
            )
            upstreams["partners"] = partners.port
        if availability_database is not None:
            availability = _running_availability(
                stack,
                infrastructure,
                availability_database,
                workdir,
                gateway_secret=generated["MANDI_AUTH_GATEWAY_SECRET"],
            )
            upstreams["availability"] = availability.port
        if risk_database is not None:
            processes["risk"], bureau = _running_risk(
                stack,
                infrastructure,
                risk_database,
                workdir,
                gateway_secret=generated["MANDI_AUTH_GATEWAY_SECRET"],
                settings=risk_settings or {},
            )
        plain = (
            ("matching", matching_database, matching_settings),
            ("webhook", webhook_database, webhook_settings),
            ("audit", audit_database, audit_settings),
        )
        for name, database, settings in plain:
            if database is not None:
                processes[name] = _running_plain(
                    name,
                    stack,
                    infrastructure,
                    database,
                    workdir,
                    gateway_secret=generated["MANDI_AUTH_GATEWAY_SECRET"],
                    settings=settings or {},
                )
        upstreams |= {name: process.service.port for name, process in processes.items()}
        gateway = stack.enter_context(
            running_gateway(
                upstreams,
                secret_file,
                workdir / "gateway",
                per_ip_rate=per_ip_rate,
                per_ip_burst=per_ip_burst,
            )
        )
        yield RunningPlatform(
            auth,
            gateway,
            generated,
            partners=partners,
            verifier=verifier,
            availability=availability,
            risk=_service_of(processes, "risk"),
            bureau=bureau,
            matching=_service_of(processes, "matching"),
            webhook=_service_of(processes, "webhook"),
            audit=_service_of(processes, "audit"),
            processes=processes,
        )


def _service_of(processes: Mapping[str, ServiceProcess], name: str) -> RunningService | None:
    return processes[name].service if name in processes else None


def running_gateway_for(
    platform: RunningPlatform,
    workdir: Path,
    *,
    auth_port: int | None = None,
    per_ip_rate: int = 1000,
    per_ip_burst: int = 2000,
) -> AbstractContextManager[RunningGateway]:
    """A second gateway in front of the same platform, with other limits or another auth port."""
    secret_file = workdir / "gateway.secret"
    secret_file.write_text(platform.gateway_secret)
    secret_file.chmod(0o600)
    return running_gateway(
        {"auth": auth_port or platform.auth.port}
        | ({"partners": platform.partners.port} if platform.partners else {}),
        secret_file,
        workdir / "gateway",
        per_ip_rate=per_ip_rate,
        per_ip_burst=per_ip_burst,
    )
