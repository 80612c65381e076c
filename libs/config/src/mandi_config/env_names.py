"""The environment variable behind each settings field: `<PREFIX><FIELD>`, upper case."""

from __future__ import annotations

from pydantic_settings import BaseSettings

__all__ = ["env_name", "env_prefix"]


def env_prefix(settings_cls: type[BaseSettings]) -> str:
    """The class's `env_prefix`, upper case, as operators write it."""
    return str(settings_cls.model_config.get("env_prefix", "")).upper()


def env_name(settings_cls: type[BaseSettings], field_name: str) -> str:
    """The variable an operator sets for `field_name`, e.g. MANDI_AUTH_DATABASE_PASSWORD."""
    return f"{env_prefix(settings_cls)}{field_name.upper()}"
