"""The platform as `make dev` runs it, for end-to-end tests and benchmarks: auth behind nginx.

Secrets are generated for the run, as deploy/local/service_env.sh generates them for `make dev`;
the gateway secret is written to a file nginx's config is rendered from.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from mandi_testing.infrastructure import Infrastructure
from mandi_testing.postgres import TestDatabase
from mandi_testing.processes import (
    RunningGateway,
    RunningService,
    ServiceFailed,
    free_port,
    running_gateway,
    running_service,
    service_environment,
)

__all__ = ["RunningPlatform", "auth_secrets", "running_gateway_for", "running_platform"]


@dataclass(frozen=True)
class RunningPlatform:
    """The auth service, the gateway in front of it, and the secrets they share."""

    auth: RunningService
    gateway: RunningGateway
    secrets: Mapping[str, str]

    @property
    def gateway_secret(self) -> str:
        """The secret that makes a service trust principal headers."""
        return self.secrets["MANDI_AUTH_GATEWAY_SECRET"]

    def create_tenant(self, slug: str, admin_email: str, admin_password: str) -> None:
        """Runs `python -m mandi_auth create-tenant` as an operator would."""
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mandi_auth",
                "create-tenant",
                "--slug",
                slug,
                "--name",
                slug,
                "--admin-email",
                admin_email,
                "--admin-password-stdin",
            ],
            input=admin_password + "\n",
            env={**os.environ, **self.auth.environment},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceFailed(f"create-tenant {slug} failed: {result.stderr.strip()}")


def _keyring() -> str:
    return "k1:" + base64.b64encode(secrets.token_bytes(32)).decode()


def auth_secrets() -> dict[str, str]:
    """Fresh values of every secret the auth service requires."""
    return {
        "MANDI_AUTH_GATEWAY_SECRET": secrets.token_urlsafe(32),
        "MANDI_AUTH_API_KEY_PEPPER": secrets.token_urlsafe(32),
        "MANDI_AUTH_KEY_ENCRYPTION_KEYS": _keyring(),
        "MANDI_AUTH_FIELD_KEYS": _keyring(),
        "MANDI_AUTH_EMAIL_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def _as_environment(settings: Mapping[str, object]) -> dict[str, str]:
    # Nested settings (plans, limits) travel as JSON, as pydantic-settings reads them.
    return {
        f"MANDI_AUTH_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
        for name, value in settings.items()
    }


@contextmanager
def running_platform(
    infrastructure: Infrastructure,
    auth_database: TestDatabase,
    workdir: Path,
    *,
    auth_settings: Mapping[str, object] | None = None,
    per_ip_rate: int = 1000,
    per_ip_burst: int = 2000,
) -> Iterator[RunningPlatform]:
    """Auth (migrated, serving) and nginx in front of it, both stopped when the block ends."""
    generated = auth_secrets()
    secret_file = workdir / "gateway.secret"
    secret_file.write_text(generated["MANDI_AUTH_GATEWAY_SECRET"])
    secret_file.chmod(0o600)
    port = free_port()
    environment = {
        **service_environment("auth", infrastructure, auth_database, port),
        **generated,
        **_as_environment(auth_settings or {}),
    }
    with (
        running_service("auth", environment, port, workdir) as auth,
        running_gateway(
            {"auth": port},
            secret_file,
            workdir / "gateway",
            per_ip_rate=per_ip_rate,
            per_ip_burst=per_ip_burst,
        ) as gateway,
    ):
        yield RunningPlatform(auth, gateway, generated)


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
        {"auth": auth_port or platform.auth.port},
        secret_file,
        workdir / "gateway",
        per_ip_rate=per_ip_rate,
        per_ip_burst=per_ip_burst,
    )
