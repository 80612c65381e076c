"""Creates a service's database with an owner role (migrations) and an application role (the app).

The application role owns nothing, so row-level security binds it; it gets data rights on what
the owner creates through default privileges. Re-running changes nothing but the passwords.

Command line (used by deploy/local/infra.sh):
    python -m mandi_db.provisioning --services services.txt --secrets-dir DIR --env-dir DIR
with the superuser's URL in DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

__all__ = ["DatabaseSpec", "drop_database", "provision_database"]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class DatabaseSpec:
    """A database with its two roles and their passwords."""

    name: str
    owner_role: str
    owner_password: str
    app_role: str
    app_password: str

    def __post_init__(self) -> None:
        for identifier in (self.name, self.owner_role, self.app_role):
            if not _IDENTIFIER.match(identifier):
                raise ValueError(f"not a plain lower-case identifier: {identifier!r}")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def _ensure_role(admin: asyncpg.Connection, role: str, password: str) -> None:
    exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    verb = "ALTER" if exists else "CREATE"
    await admin.execute(
        f"{verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
        f"PASSWORD {_literal(password)}"
    )


async def _ensure_database(admin: asyncpg.Connection, spec: DatabaseSpec) -> None:
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", spec.name):
        await admin.execute(f"CREATE DATABASE {spec.name} OWNER {spec.owner_role}")
    await admin.execute(f"REVOKE ALL ON DATABASE {spec.name} FROM PUBLIC")
    await admin.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {spec.name} TO {spec.app_role}")


async def _grant_app_rights(database: asyncpg.Connection, spec: DatabaseSpec) -> None:
    owner, app = spec.owner_role, spec.app_role
    await database.execute(f"""
        ALTER SCHEMA public OWNER TO {owner};
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
        GRANT USAGE ON SCHEMA public TO {app};
        ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app};
        ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public
            GRANT USAGE, SELECT ON SEQUENCES TO {app};
    """)


async def provision_database(admin_dsn: str, spec: DatabaseSpec) -> None:
    """Creates or updates the roles and the database; connects with a superuser's URL."""
    admin = await asyncpg.connect(admin_dsn)
    try:
        await _ensure_role(admin, spec.owner_role, spec.owner_password)
        await _ensure_role(admin, spec.app_role, spec.app_password)
        await _ensure_database(admin, spec)
    finally:
        await admin.close()
    database = await asyncpg.connect(_with_database(admin_dsn, spec.name))
    try:
        await _grant_app_rights(database, spec)
    finally:
        await database.close()


async def drop_database(admin_dsn: str, name: str) -> None:
    """Drops a database even while connections remain (tests clean up with it)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain lower-case identifier: {name!r}")
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def _with_database(dsn: str, database: str) -> str:
    return make_url(dsn).set(database=database).render_as_string(hide_password=False)


def _password(secrets_dir: Path, role: str) -> tuple[str, Path]:
    path = secrets_dir / f"{role}.password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip(), path


def _service_spec(service: str, secrets_dir: Path) -> tuple[DatabaseSpec, Path, Path]:
    owner, app = f"mandi_{service}_owner", f"mandi_{service}_app"
    owner_password, owner_file = _password(secrets_dir, owner)
    app_password, app_file = _password(secrets_dir, app)
    spec = DatabaseSpec(f"mandi_{service}", owner, owner_password, app, app_password)
    return spec, owner_file, app_file


def _service_env(service: str, admin_dsn: str, spec: DatabaseSpec, files: tuple[Path, Path]) -> str:
    url = make_url(admin_dsn)
    prefix = f"MANDI_{service.upper()}_"

    def role_url(role: str) -> str:
        return f"postgresql://{role}@{url.host}:{url.port}/{spec.name}"

    return (
        f"{prefix}DATABASE_URL={role_url(spec.app_role)}\n"
        f"{prefix}DATABASE_PASSWORD_FILE={files[1]}\n"
        f"{prefix}MIGRATION_DATABASE_URL={role_url(spec.owner_role)}\n"
        f"{prefix}MIGRATION_DATABASE_PASSWORD_FILE={files[0]}\n"
    )


def _service_names(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


async def _provision_all(admin_dsn: str, specs: list[DatabaseSpec]) -> None:
    for spec in specs:
        await provision_database(admin_dsn, spec)


def main() -> None:
    """Provisions every service named in a file, one per line, and writes its env file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", required=True, type=Path)
    parser.add_argument("--secrets-dir", required=True, type=Path)
    parser.add_argument("--env-dir", required=True, type=Path)
    args = parser.parse_args()
    admin_dsn = os.environ.get("DATABASE_URL")
    if not admin_dsn:
        raise SystemExit("error: DATABASE_URL (a superuser's URL) is not set")
    args.secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    args.env_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    services = _service_names(args.services)
    prepared = [_service_spec(service, args.secrets_dir) for service in services]
    asyncio.run(_provision_all(admin_dsn, [spec for spec, _, _ in prepared]))
    for service, (spec, owner_file, app_file) in zip(services, prepared, strict=True):
        env = _service_env(service, admin_dsn, spec, (owner_file, app_file))
        (args.env_dir / f"{service}.env").write_text(env)


if __name__ == "__main__":
    main()
