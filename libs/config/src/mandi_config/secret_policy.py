"""Which secrets a process may start with: outside development and test, no empty or default one."""

from __future__ import annotations

from typing import get_args

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from mandi_config.env_names import env_name
from mandi_config.secret_files import FILE_SUFFIX

__all__ = ["RELAXED_ENVIRONMENTS", "secret_problems"]

RELAXED_ENVIRONMENTS = frozenset({"development", "test"})

# Values found in tutorials, compose files and .env examples: an attacker tries these first.
_KNOWN_DEFAULTS = frozenset(
    {
        "",
        "123456",
        "admin",
        "change-me",
        "change_me",
        "changeme",
        "default",
        "dev",
        "example",
        "password",
        "postgres",
        "redis",
        "root",
        "secret",
        "test",
    }
)
_WEAK_PREFIXES = ("dev-", "insecure")


def secret_problems(settings: BaseSettings) -> list[str]:
    """One sentence per secret field that is empty or a known default, naming its variable."""
    problems = []
    for name in _secret_fields(type(settings)):
        problem = _problem(getattr(settings, name))
        if problem:
            variable = env_name(type(settings), name)
            problems.append(f"{variable} {problem}: set it or {variable}{FILE_SUFFIX}")
    return problems


def _secret_fields(settings_cls: type[BaseSettings]) -> list[str]:
    return [
        name
        for name, field in settings_cls.model_fields.items()
        if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
    ]


def _problem(secret: SecretStr | None) -> str | None:
    value = "" if secret is None else secret.get_secret_value().strip()
    if not value:
        return "is empty"
    if value.lower() in _KNOWN_DEFAULTS or value.lower().startswith(_WEAK_PREFIXES):
        return "is a well-known default"
    return None
