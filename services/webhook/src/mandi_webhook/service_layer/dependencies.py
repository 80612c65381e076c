"""Everything the use cases need, built once by bootstrap.py and passed to each of them."""

from __future__ import annotations

from dataclasses import dataclass

from mandi_runtime import Clock
from mandi_webhook.service_layer.unit_of_work import DirectoryFactory, UnitOfWorkFactory
from mandi_webhooks import Resolver, resolve_host

__all__ = ["WebhookDependencies"]


@dataclass(frozen=True)
class WebhookDependencies:
    """The adapters behind the use cases."""

    uow: UnitOfWorkFactory
    # Read-only, on the read replica while it serves: lists of endpoints.
    read_uow: UnitOfWorkFactory
    directory: DirectoryFactory
    clock: Clock
    # How an endpoint's host is resolved for the SSRF guard (a test gives its own answers).
    resolve: Resolver = resolve_host
    # Development only: http, and endpoints on this machine's loopback addresses.
    allow_local_endpoints: bool = False
