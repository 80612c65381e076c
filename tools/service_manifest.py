"""Writes what is derived from the services' own declarations, and checks it is current.

- deploy/local/services.txt and secrets.txt, from each service's `Settings` (its port and its
  secrets, declared once there; the local scripts read these files: shell cannot read Python);
- docs/asyncapi/<service>.json, each service's AsyncAPI document, from its definition (the
  events its consumer groups take and those it publishes).

`make lint` checks they are up to date.

    python tools/service_manifest.py write    # rewrite them
    python tools/service_manifest.py check    # exit 1 naming a stale file
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from mandi_config import declared_secrets
from mandi_runtime import asyncapi_of

ROOT = Path(__file__).resolve().parent.parent
DEPLOY_LOCAL = ROOT / "deploy" / "local"
ASYNCAPI = ROOT / "docs" / "asyncapi"

_SERVICES_HEADER = """\
# Written by tools/service_manifest.py from each service's Settings: do not edit by hand.
# One database, one owner role and one application role per service (DESIGN.md); the port
# each service's HTTP API listens on locally; the extensions provisioning creates in its
# database ("-": none).
# service      port   extensions
"""
_SECRETS_HEADER = """\
# Written by tools/service_manifest.py from each service's Settings: do not edit by hand.
# Secrets each service reads through MANDI_<SERVICE>_<SETTING>_FILE, generated once into
# .local/secrets and kept. kind: token (random text), key32 (32 random bytes in base64),
# keyring (one such key with an id: "k1:<base64>"). A file name shares one secret between
# services (the gateway secret is also nginx's).
# service  setting              kind     file
"""


def service_names() -> list[str]:
    """The services that can run: those with an entry point, as the gateway routes them."""
    return sorted(path.parent.name.removeprefix("mandi_") for path in _entry_points())


def _entry_points() -> list[Path]:
    return list((ROOT / "services").glob("*/src/mandi_*/__main__.py"))


def _settings(service: str) -> type:
    settings: type = importlib.import_module(f"mandi_{service}.config").Settings
    return settings


def render_services() -> str:
    """services.txt: each service, its default port and its database's extensions."""
    lines = [
        f"{name:<14} {_settings(name).model_fields['http_port'].default:<6} "
        f"{','.join(_settings(name).database_extensions) or '-'}"
        for name in service_names()
    ]
    return _SERVICES_HEADER + "\n".join(lines) + "\n"


def render_secrets() -> str:
    """secrets.txt: each service's declared secrets, their kinds and files."""
    lines = [
        f"{name:<10} {found.setting.upper():<20} {found.kind:<8} {found.file}"
        for name in service_names()
        for found in declared_secrets(_settings(name), name)
    ]
    return _SECRETS_HEADER + "\n".join(lines) + "\n"


def render_asyncapi(service: str) -> str:
    """The service's AsyncAPI document, as written under docs/asyncapi."""
    definition = importlib.import_module(f"mandi_{service}.entrypoints.service").DEFINITION
    return json.dumps(asyncapi_of(definition), indent=2, sort_keys=True) + "\n"


def _files() -> dict[Path, str]:
    return {
        DEPLOY_LOCAL / "services.txt": render_services(),
        DEPLOY_LOCAL / "secrets.txt": render_secrets(),
        **{ASYNCAPI / f"{name}.json": render_asyncapi(name) for name in service_names()},
    }


def main() -> None:
    """Writes or checks the files."""
    action = sys.argv[1] if len(sys.argv) > 1 else "check"
    files = _files()
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    if action == "write":
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    elif stale:
        names = ", ".join(str(path.relative_to(ROOT)) for path in stale)
        print(f"stale: {names}; run python tools/service_manifest.py write")
        sys.exit(1)


if __name__ == "__main__":
    main()
