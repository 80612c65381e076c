"""The settings every service shares; each service subclasses them under its own env prefix.

    class Settings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="MANDI_PARTNERS_")

Outside development and test, an empty or well-known default secret stops the process.
"""

from __future__ import annotations

from typing import Literal, Self, TypeVar

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from mandi_config.secrets import ConfigurationError, SecretFileSource

__all__ = ["ServiceSettings", "load_settings"]

Environment = Literal["development", "test", "staging", "production"]
_RELAXED: frozenset[str] = frozenset({"development", "test"})
_KNOWN_DEFAULTS = frozenset(
    {"", "changeme", "change-me", "change_me", "secret", "password", "admin", "default", "dev",
     "test", "example", "postgres", "redis", "root", "123456"}
)
_WEAK_PREFIXES = ("dev-", "insecure")
SettingsT = TypeVar("SettingsT", bound="ServiceSettings")


def _is_weak(secret: SecretStr | None) -> bool:
    value = "" if secret is None else secret.get_secret_value().strip().lower()
    return value in _KNOWN_DEFAULTS or value.startswith(_WEAK_PREFIXES)


class ServiceSettings(BaseSettings):
    """Settings common to every service: where its database, Kafka and Redis are, and its secrets."""

    model_config = SettingsConfigDict(env_prefix="MANDI_", extra="ignore", frozen=True)

    environment: Environment = "development"
    service_name: str = "mandi"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    database_url: str = "postgresql://mandi_app@127.0.0.1:55432/mandi"
    database_password: SecretStr | None = None
    migration_database_url: str = "postgresql://mandi_owner@127.0.0.1:55432/mandi"
    migration_database_password: SecretStr | None = None
    kafka_bootstrap_servers: str = "127.0.0.1:59092"
    redis_url: str = "redis://127.0.0.1:56379/0"
    redis_password: SecretStr | None = None
    otlp_endpoint: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then `<NAME>_FILE` secrets, then the environment."""
        return (init_settings, SecretFileSource(settings_cls), env_settings, dotenv_settings)

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Self:
        if self.environment in _RELAXED:
            return self
        prefix = str(self.model_config.get("env_prefix", "")).upper()
        for name, field in type(self).model_fields.items():
            if _is_secret(field.annotation) and _is_weak(getattr(self, name)):
                variable = f"{prefix}{name.upper()}"
                raise ValueError(
                    f"{variable} is empty or a well-known default: set it or {variable}_FILE"
                )
        return self


def _is_secret(annotation: object) -> bool:
    return annotation is SecretStr or "SecretStr" in repr(annotation)


def load_settings(cls: type[SettingsT]) -> SettingsT:
    """Reads the settings once at start-up; a ConfigurationError says in one line what to fix."""
    try:
        return cls()
    except ValidationError as error:
        raise ConfigurationError(_one_line(cls, error)) from None


def _one_line(cls: type[ServiceSettings], error: ValidationError) -> str:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    problems = []
    for detail in error.errors(include_input=False, include_url=False):
        message = str(detail["msg"]).removeprefix("Value error, ")
        location = "".join(str(part) for part in detail["loc"][:1]).upper()
        problems.append(f"{prefix}{location}: {message}" if location else message)
    return "; ".join(problems)
