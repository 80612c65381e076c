"""Values from files: `<PREFIX><FIELD>_FILE` names a file whose content is the field's value.

Kubernetes and Docker mount secrets as files; reading them keeps values out of the environment,
where every child process and every crash report can see them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from mandi_config.env_names import env_name
from mandi_config.errors import ConfigurationError

__all__ = ["SecretFileSource"]

FILE_SUFFIX = "_FILE"


class SecretFileSource(PydanticBaseSettingsSource):
    """A settings source reading `<PREFIX><FIELD>_FILE` for every field of the settings class."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        # Names compare upper case, as pydantic-settings' environment source does by default.
        self._environment = {name.upper(): value for name, value in os.environ.items()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:  # noqa: ARG002 - the signature pydantic-settings calls
        """The content of the field's file when `<VARIABLE>_FILE` is set, else None."""
        variable = env_name(self.settings_cls, field_name)
        path = self._environment.get(variable + FILE_SUFFIX)
        if path is None:
            return None, field_name, False
        if variable in self._environment:
            raise ConfigurationError(
                f"{variable} and {variable}{FILE_SUFFIX} are both set: keep one"
            )
        return _read_value(variable, Path(path)), field_name, False

    def __call__(self) -> dict[str, Any]:
        """Every field whose file is named, by field name."""
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


def _read_value(variable: str, path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise ConfigurationError(
            f"{variable}{FILE_SUFFIX} names {path}, unreadable: {reason}"
        ) from None
    # Editors and `echo` end files with a newline that is not part of the secret.
    return text.removesuffix("\n").removesuffix("\r")
