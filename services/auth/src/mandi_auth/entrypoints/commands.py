"""The auth service's own commands, beside the runtime's serve and migrate.

    python -m mandi_auth create-tenant --slug demo --name "Demo" --admin-email admin@demo.example
        [--admin-password-stdin] [--if-absent]
    python -m mandi_auth suspend-tenant --slug demo [--by "ops:asha"]
    python -m mandi_auth reactivate-tenant --slug demo [--by "ops:asha"]
    python -m mandi_auth reseal     # re-encrypt every sealed value under the newest key now

create-tenant prints a generated admin password once, unless the operator gives one on stdin.
Suspending a tenant ends its sessions and refuses its users and keys at once; reactivating lets
its users sign in anew and its keys work again.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from mandi_auth.config import Settings
from mandi_auth.service_layer.accounts import (
    CreateTenant,
    create_tenant,
    reactivate_tenant,
    suspend_tenant,
)
from mandi_auth.service_layer.dependencies import AuthDependencies
from mandi_auth.service_layer.resealing import reseal_all
from mandi_runtime import Command, RunningService

__all__ = ["COMMANDS", "AuthRunning"]

AuthRunning = RunningService[Settings, AuthDependencies]


async def _create_tenant(service: AuthRunning, args: argparse.Namespace) -> None:
    password = sys.stdin.readline().rstrip("\n") if args.admin_password_stdin else None
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


def _tenant_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slug", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--admin-email", required=True)
    parser.add_argument(
        "--admin-password-stdin", action="store_true", help="read the password from stdin"
    )
    parser.add_argument("--if-absent", action="store_true", help="do nothing if the tenant exists")


async def _suspend_tenant(service: AuthRunning, args: argparse.Namespace) -> None:
    ended = await suspend_tenant(service.deps, args.slug, by=args.by)
    print(f"tenant {args.slug} suspended; {ended} sessions ended")  # noqa: T201


async def _reactivate_tenant(service: AuthRunning, args: argparse.Namespace) -> None:
    await reactivate_tenant(service.deps, args.slug, by=args.by)
    print(f"tenant {args.slug} reactivated")  # noqa: T201


def _status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slug", required=True)
    parser.add_argument("--by", default=f"operator:{getpass.getuser()}", help="who does it")


async def _reseal(service: AuthRunning, _args: argparse.Namespace) -> None:
    count = await reseal_all(service.deps, service.settings.rekey_batch_size)
    print(f"re-encrypted {count} rows under the newest keys")  # noqa: T201


COMMANDS: list[Command[Settings, AuthDependencies]] = [
    Command(
        "create-tenant", "create a tenant and its first admin", _create_tenant, _tenant_arguments
    ),
    Command("suspend-tenant", "suspend a tenant", _suspend_tenant, _status_arguments),
    Command("reactivate-tenant", "reactivate a tenant", _reactivate_tenant, _status_arguments),
    Command("reseal", "re-encrypt sealed values made with older keys, now", _reseal),
]
