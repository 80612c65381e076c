"""Secrets a service declares once, in its settings: what each protects and how a new one is made.

    class Settings(ServiceSettings):
        field_keys: SecretStr | None = secret("keyring")  # seals tax ids and contacts

From these declarations the service refuses to start without its required secrets, the local
scripts generate each one into a file (`deploy/local/secrets.txt` is written from them), and
the test platform makes fresh values for a run.
"""

from __future__ import annotations

import base64
import secrets as random
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo

__all__ = ["DeclaredSecret", "SecretKind", "declared_secrets", "new_secret_value", "secret"]

# token: random text; key32: 32 random bytes in base64; keyring: one such key with an id.
SecretKind = Literal["token", "key32", "keyring"]
_MARK = "mandi_secret"


def secret(kind: SecretKind, *, required: bool = True, shared_file: str | None = None) -> Any:
    """A secret setting: `kind` says how a new value is made; `shared_file` names the file it
    shares with other services (the gateway secret is also nginx's)."""
    mark: JsonDict = {"kind": kind, "required": required, "file": shared_file}
    return Field(default=None, json_schema_extra={_MARK: mark})


@dataclass(frozen=True)
class DeclaredSecret:
    """One secret setting of a service, as the scripts and the tests see it."""

    setting: str
    kind: SecretKind
    required: bool
    file: str


def declared_secrets(settings: type[Any], service: str) -> list[DeclaredSecret]:
    """The secrets a settings class declares, with the file each is kept in locally."""
    found = []
    for name, field in settings.model_fields.items():
        mark = _mark(field)
        if mark is not None:
            file = mark["file"] or f"{service}-{name.replace('_', '-')}"
            found.append(DeclaredSecret(name, mark["kind"], mark["required"], file))
    return found


def _mark(field: FieldInfo) -> dict[str, Any] | None:
    extra = field.json_schema_extra
    return extra.get(_MARK) if isinstance(extra, dict) else None  # type: ignore[return-value]


def new_secret_value(kind: SecretKind) -> str:
    """A fresh value of a secret of this kind."""
    if kind == "token":
        return random.token_urlsafe(32)
    key = base64.b64encode(random.token_bytes(32)).decode()
    return f"k1:{key}" if kind == "keyring" else key
