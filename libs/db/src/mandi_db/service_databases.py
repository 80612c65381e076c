"""Provisions one database per service and writes each service's env file (deploy/local/infra.sh).

    python -m mandi_db.service_databases --services services.txt --secrets-dir DIR --env-dir DIR \
        [--read-port PORT]

with a superuser's URL in DATABASE_URL. Passwords are generated once into the secrets folder
and kept; each env file names the URLs (without passwords) and the password files. With
`--read-port`, a streaming replica of that server listens on PORT: each env file also names it
as the service's read URL (the application role and its password replicate with the data).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from mandi_db.provisioning import DatabaseSpec, provision_database


def _password(secrets_dir: Path, role: str) -> tuple[str, Path]:
    path = secrets_dir / f"{role}.password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip(), path


def _service_spec(
    service: str, extensions: tuple[str, ...], secrets_dir: Path
) -> tuple[DatabaseSpec, Path, Path]:
    owner, app = f"mandi_{service}_owner", f"mandi_{service}_app"
    owner_password, owner_file = _password(secrets_dir, owner)
    app_password, app_file = _password(secrets_dir, app)
    spec = DatabaseSpec(f"mandi_{service}", owner, owner_password, app, app_password, extensions)
    return spec, owner_file, app_file


def _service_env(
    service: str,
    admin_dsn: str,
    spec: DatabaseSpec,
    files: tuple[Path, Path],
    read_port: int | None = None,
) -> str:
    url = make_url(admin_dsn)
    prefix = f"MANDI_{service.upper()}_"

    def role_url(role: str, port: int | None = url.port) -> str:
        return f"postgresql://{role}@{url.host}:{port}/{spec.name}"

    env = (
        f"{prefix}DATABASE_URL={role_url(spec.app_role)}\n"
        f"{prefix}DATABASE_PASSWORD_FILE={files[1]}\n"
        f"{prefix}MIGRATION_DATABASE_URL={role_url(spec.owner_role)}\n"
        f"{prefix}MIGRATION_DATABASE_PASSWORD_FILE={files[0]}\n"
    )
    if read_port is not None:
        env += f"{prefix}READ_DATABASE_URL={role_url(spec.app_role, read_port)}\n"
    return env


def _services(path: Path) -> dict[str, tuple[str, ...]]:
    """Each service named (a line's first word) with the database extensions it needs (its
    third word, comma-separated; "-" for none)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    rows = [line.split() for line in lines if line and not line.startswith("#")]
    return {
        row[0]: tuple(name for name in (row[2] if len(row) > 2 else "-").split(",") if name != "-")  # noqa: PLR2004 - the third column
        for row in rows
    }


async def _provision_all(admin_dsn: str, specs: list[DatabaseSpec]) -> None:
    for spec in specs:
        await provision_database(admin_dsn, spec)


def main() -> None:
    """Provisions every service named in a file, one per line, and writes its env file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", required=True, type=Path)
    parser.add_argument("--secrets-dir", required=True, type=Path)
    parser.add_argument("--env-dir", required=True, type=Path)
    parser.add_argument("--read-port", type=int, help="port of a streaming replica, for reads")
    args = parser.parse_args()
    admin_dsn = os.environ.get("DATABASE_URL")
    if not admin_dsn:
        raise SystemExit("error: DATABASE_URL (a superuser's URL) is not set")
    args.secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    args.env_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    services = _services(args.services)
    prepared = [
        _service_spec(service, extensions, args.secrets_dir)
        for service, extensions in services.items()
    ]
    asyncio.run(_provision_all(admin_dsn, [spec for spec, _, _ in prepared]))
    for service, (spec, owner_file, app_file) in zip(services, prepared, strict=True):
        env = _service_env(service, admin_dsn, spec, (owner_file, app_file), args.read_port)
        (args.env_dir / f"{service}.env").write_text(env)


if __name__ == "__main__":
    main()
