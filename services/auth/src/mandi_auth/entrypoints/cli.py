"""The auth service's commands: serve, migrate, create-tenant, suspend/reactivate, reseal.

    python -m mandi_auth serve
    python -m mandi_auth migrate
    python -m mandi_auth reseal     # re-encrypt every sealed value under the newest key now
    python -m mandi_auth create-tenant --slug demo --name "Demo" --admin-email admin@demo.example
        [--admin-password-stdin] [--if-absent]
    python -m mandi_auth suspend-tenant --slug demo [--by "ops:asha"]
    python -m mandi_auth reactivate-tenant --slug demo [--by "ops:asha"]

create-tenant prints a generated admin password once, unless the operator gives one on stdin.
Suspending a tenant ends its sessions and refuses its users and keys at once; reactivating lets
its users sign in anew and its keys work again.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from mandi_auth.bootstrap import running_service
from mandi_auth.config import Settings
from mandi_auth.service_layer.accounts import (
    CreateTenant,
    create_tenant,
    reactivate_tenant,
    suspend_tenant,
)
from mandi_auth.service_layer.resealing import reseal_all
from mandi_config import load_settings, run_or_exit
from mandi_observability import configure_logging
from mandi_runtime import migrate, run_operation, serve

__all__ = ["main"]

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"
APP_FACTORY = "mandi_auth.entrypoints.http.app:create_app"


async def _create_tenant(settings: Settings, args: argparse.Namespace) -> None:
    password = sys.stdin.readline().rstrip("\n") if args.admin_password_stdin else None
    async with running_service(settings, background=False) as service:
        if args.if_absent:
            async with service.deps.directory() as directory:
                if await directory.tenants.by_slug(args.slug) is not None:
                    print(f"tenant {args.slug} exists; nothing changed")  # noqa: T201
                    return
        created = await create_tenant(
            service.deps, CreateTenant(args.slug, args.name, args.admin_email, password)
        )
    print(f"tenant {args.slug} created: {created.tenant_id}")  # noqa: T201
    print(f"admin {args.admin_email}: {created.admin_user_id}")  # noqa: T201
    if created.generated_password:
        print(f"admin password (shown once): {created.generated_password}")  # noqa: T201


async def _suspend_tenant(settings: Settings, args: argparse.Namespace) -> None:
    async with running_service(settings, background=False) as service:
        ended = await suspend_tenant(service.deps, args.slug, by=args.by)
    print(f"tenant {args.slug} suspended; {ended} sessions ended")  # noqa: T201


async def _reactivate_tenant(settings: Settings, args: argparse.Namespace) -> None:
    async with running_service(settings, background=False) as service:
        await reactivate_tenant(service.deps, args.slug, by=args.by)
    print(f"tenant {args.slug} reactivated")  # noqa: T201


async def _reseal(settings: Settings) -> None:
    async with running_service(settings, background=False) as service:
        count = await reseal_all(service.deps, settings.rekey_batch_size)
    print(f"re-encrypted {count} rows under the newest keys")  # noqa: T201


_OPERATIONS = {
    "create-tenant": ("auth.create_tenant", _create_tenant),
    "suspend-tenant": ("auth.suspend_tenant", _suspend_tenant),
    "reactivate-tenant": ("auth.reactivate_tenant", _reactivate_tenant),
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mandi_auth", description="Mandi's auth service."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP API, the outbox relay and the key refresher")
    commands.add_parser("migrate", help="upgrade the database to the newest migration")
    tenant = commands.add_parser("create-tenant", help="create a tenant and its first admin")
    tenant.add_argument("--slug", required=True)
    tenant.add_argument("--name", required=True)
    tenant.add_argument("--admin-email", required=True)
    tenant.add_argument(
        "--admin-password-stdin", action="store_true", help="read the password from stdin"
    )
    tenant.add_argument("--if-absent", action="store_true", help="do nothing if the tenant exists")
    for command, what in (("suspend-tenant", "suspend"), ("reactivate-tenant", "reactivate")):
        status = commands.add_parser(command, help=f"{what} a tenant")
        status.add_argument("--slug", required=True)
        status.add_argument("--by", default=f"operator:{getpass.getuser()}", help="who does it")
    commands.add_parser("reseal", help="re-encrypt sealed values made with older keys, now")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Runs one command; bad configuration or a taken port ends it with one line."""
    args = _arguments(argv)

    def run() -> None:
        settings = load_settings(Settings)
        configure_logging(settings.service_name, level=settings.log_level)
        if args.command == "serve":
            serve(settings, APP_FACTORY, workers=settings.http_workers)
        elif args.command == "migrate":
            migrate(settings, MIGRATIONS)
        elif args.command in _OPERATIONS:
            name, work = _OPERATIONS[args.command]
            run_operation(settings, name, lambda: work(settings, args))
        else:
            run_operation(settings, "auth.reseal", lambda: _reseal(settings))

    run_or_exit(run)
