"""Reading settings once at start-up, turning every way it can fail into one readable line."""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsError

from mandi_config.env_names import env_name
from mandi_config.errors import ConfigurationError

__all__ = ["load_settings"]

SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_settings(cls: type[SettingsT]) -> SettingsT:
    """The settings from the environment, or a ConfigurationError naming the variables to fix."""
    try:
        return cls()
    except ValidationError as error:
        problems = (_describe(cls, detail) for detail in error.errors(include_input=False))
        raise ConfigurationError(_one_line("; ".join(problems))) from None
    except SettingsError as error:
        raise ConfigurationError(_one_line(str(error))) from None


def _describe(cls: type[BaseSettings], detail: ErrorDetails) -> str:
    message = str(detail["msg"]).removeprefix("Value error, ")
    if not detail["loc"]:
        return message  # a model-level check names its variables itself
    variable = env_name(cls, str(detail["loc"][0]))
    if detail["type"] == "missing":
        return f"{variable} is not set"
    return f"{variable}: {message}"


def _one_line(message: str) -> str:
    return " ".join(message.split())
