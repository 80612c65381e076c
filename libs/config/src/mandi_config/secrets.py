"""Secrets from a file: `<NAME>_FILE` holds the path of a file whose content is the value of `<NAME>`.

Kubernetes and Docker mount secrets as files; reading them keeps values out of the environment,
where any child process and any crash report can see them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

__all__ = ["ConfigurationError", "SecretFileSource"]


class ConfigurationError(ValueError):
    """The process's configuration is unusable; the message names what to set, in one line."""


class SecretFileSource(PydanticBaseSettingsSource):
    """A settings source reading `<PREFIX><FIELD>_FILE` for every field of the settings class."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._prefix = str(settings_cls.model_config.get("env_prefix", "")).upper()
        self._environment = {name.upper(): value for name, value in os.environ.items()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """The content of the field's secret file, if one is named."""
        variable = f"{self._prefix}{field_name.upper()}"
        path = self._environment.get(f"{variable}_FILE")
        if path is None:
            return None, field_name, False
        if variable in self._environment:
            raise ConfigurationError(f"{variable} and {variable}_FILE are both set: keep one")
        return _read_secret(variable, Path(path)), field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


def _read_secret(variable: str, path: Path) -> str:
    try:
        return path.read_text().removesuffix("\n")
    except OSError as error:
        raise ConfigurationError(f"{variable}_FILE names {path}, which cannot be read: {error.strerror}") from error
