"""Writes the import-linter contracts for every library and service found on disk.

import-linter refuses a contract that names a module which does not exist, so the contracts
that concern services are generated from the services present: a new service gets its
independence, layers and pure-domain contracts the moment its package exists.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lower lines may not import higher ones; `|` separates libraries that may not import each other.
LIBRARY_LAYERS = (
    "mandi_testing",
    "mandi_runtime",
    "mandi_contracts | mandi_saga",
    "mandi_messaging",
    "mandi_db",
    "mandi_security | mandi_resilience | mandi_rules | mandi_webhooks",
    "mandi_errors",
    "mandi_observability",
    "mandi_config",
)
SERVICE_LAYERS = ("entrypoints", "bootstrap", "config", "adapters", "service_layer", "domain")
FRAMEWORKS_BANNED_FROM_DOMAIN = (
    "fastapi",
    "faststream",
    "aiokafka",
    "sqlalchemy",
    "sqlmodel",
    "asyncpg",
    "pydantic_settings",
    "httpx",
    "redis",
)


@dataclass(frozen=True)
class Workspace:
    """The top-level packages of the libraries and services in a checkout."""

    libraries: tuple[str, ...]
    services: tuple[str, ...]


def discover(root: Path) -> Workspace:
    """Finds each package under libs/*/src and services/*/src."""

    def packages(group: str) -> tuple[str, ...]:
        found = (
            p.name for p in root.glob(f"{group}/*/src/mandi_*") if (p / "__init__.py").exists()
        )
        return tuple(sorted(found))

    return Workspace(libraries=packages("libs"), services=packages("services"))


def render(workspace: Workspace) -> str:
    """The import-linter INI text for this workspace."""
    sections = [_header(workspace), _library_layers(workspace), _no_test_helpers(workspace)]
    if workspace.services:
        sections.append(_libraries_never_import_services(workspace))
    if len(workspace.services) > 1:
        sections.append(_services_are_independent(workspace))
    for service in workspace.services:
        sections += [_service_layers(service), _pure_domain(service)]
    return "\n".join(sections)


def _lines(items: tuple[str, ...] | list[str]) -> str:
    return "".join(f"\n    {item}" for item in items)


def _header(workspace: Workspace) -> str:
    packages = workspace.libraries + workspace.services
    return f"[importlinter]\nroot_packages ={_lines(packages)}\ninclude_external_packages = True\n"


def _library_layers(workspace: Workspace) -> str:
    present = set(workspace.libraries)
    layers = [
        " | ".join(name for name in layer.split(" | ") if name in present)
        for layer in LIBRARY_LAYERS
    ]
    return (
        "[importlinter:contract:library-layers]\n"
        "name = Libraries import only the layers below them\n"
        f"type = layers\nlayers ={_lines([layer for layer in layers if layer])}\n"
    )


def _no_test_helpers(workspace: Workspace) -> str:
    production = [name for name in workspace.libraries if name != "mandi_testing"]
    production += workspace.services
    return (
        "[importlinter:contract:no-test-helpers-in-production]\n"
        "name = Production code never imports test helpers\n"
        f"type = forbidden\nsource_modules ={_lines(production)}\n"
        f"forbidden_modules ={_lines(['mandi_testing', 'pytest'])}\n"
    )


def _libraries_never_import_services(workspace: Workspace) -> str:
    return (
        "[importlinter:contract:libraries-never-import-services]\n"
        "name = Libraries never import services\n"
        f"type = forbidden\nsource_modules ={_lines(workspace.libraries)}\n"
        f"forbidden_modules ={_lines(workspace.services)}\n"
    )


def _services_are_independent(workspace: Workspace) -> str:
    return (
        "[importlinter:contract:services-are-independent]\n"
        "name = Services never import each other\n"
        f"type = independence\nmodules ={_lines(workspace.services)}\n"
    )


def _service_layers(service: str) -> str:
    return (
        f"[importlinter:contract:{service}-layers]\n"
        f"name = {service} imports downwards only\n"
        # Optional layers: a service grows layer by layer (its domain first), and a layer it
        # has is held to the order all the same.
        f"type = layers\ncontainers =\n    {service}\n"
        f"layers ={_lines([f'({layer})' for layer in SERVICE_LAYERS])}\n"
        "exhaustive = true\nexhaustive_ignores =\n    __main__\n"
    )


def _pure_domain(service: str) -> str:
    return (
        f"[importlinter:contract:{service}-pure-domain]\n"
        f"name = {service}'s domain imports no framework\n"
        f"type = forbidden\nsource_modules =\n    {service}.domain\n"
        f"forbidden_modules ={_lines(FRAMEWORKS_BANNED_FROM_DOMAIN)}\n"
    )


def main() -> None:
    """Writes the contracts to the path given, or to stdout."""
    text = render(discover(ROOT))
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
