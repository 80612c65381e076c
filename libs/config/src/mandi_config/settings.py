"""The settings every service shares; each service subclasses them under its own env prefix.

    class Settings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="MANDI_AUTH_", extra="ignore", frozen=True)
        service_name: str = "auth"
        http_port: int = 58101
        api_key_pepper: SecretStr | None = secret("token")

Defaults point at the local infrastructure `make infra-up` starts (the database URLs default to
the service's own database and roles); secrets have no default, and a required one missing
stops the service with one line naming its variable.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mandi_config.declared_secrets import declared_secrets
from mandi_config.env_names import env_name
from mandi_config.secret_files import FILE_SUFFIX, SecretFileSource
from mandi_config.secret_policy import RELAXED_ENVIRONMENTS, secret_problems

__all__ = ["ServiceSettings"]

Environment = Literal["development", "test", "staging", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# URLs whose password field is not named after them.
_PASSWORD_FIELDS = {"read_database_url": "database_password"}


class ServiceSettings(BaseSettings):
    """Settings common to every service: where its database, Kafka and Redis are; its secrets."""

    model_config = SettingsConfigDict(env_prefix="MANDI_", extra="ignore", frozen=True)
    # Extensions of the service's database that only a superuser may create (provisioning
    # creates them; deploy/local/services.txt lists them).
    database_extensions: ClassVar[tuple[str, ...]] = ()

    environment: Environment = "development"
    service_name: str
    log_level: LogLevel = "INFO"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_workers: int = Field(default=1, ge=1)
    # Both default to the service's own database `mandi_<service>`, as provisioning names it.
    database_url: str = ""
    database_password: SecretStr | None = None
    # The owner role runs migrations only: the app role must not own tables (row-level security).
    migration_database_url: str = ""
    migration_database_password: SecretStr | None = None
    # A streaming replica for reads that may be slightly stale (lists, reports); None sends every
    # read to the primary. It signs in as the application role with `database_password`: roles
    # and their passwords replicate with the data.
    read_database_url: str | None = None
    # Beyond this lag, or while the replica cannot be reached, reads go to the primary.
    read_database_max_lag_seconds: float = Field(default=5.0, gt=0)
    # How often the replica's health and lag are measured, in the background.
    read_database_check_seconds: float = Field(default=1.0, gt=0)
    kafka_bootstrap_servers: str = "127.0.0.1:59092"
    # Where the service's consumer groups run: inside `serve` (each worker joins the groups), or
    # only in processes of their own (`python -m mandi_<service> consume`), scaled apart.
    consumers_in_serve: bool = True
    # Where `consume` answers /metrics (it serves no API); 0: on no port.
    consume_metrics_port: int = Field(default=0, ge=0, le=65535)
    redis_url: str = "redis://127.0.0.1:56379/0"
    redis_password: SecretStr | None = None
    # One bounded pool: commands beyond it wait this long for a connection, then fail (503).
    redis_max_connections: int = Field(default=64, ge=1)
    redis_pool_timeout_seconds: float = Field(default=2.0, gt=0)
    otlp_endpoint: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003 - `<NAME>_FILE` replaces it
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then `<NAME>_FILE` files, then the environment, then a .env file."""
        return (init_settings, SecretFileSource(settings_cls), env_settings, dotenv_settings)

    @model_validator(mode="before")
    @classmethod
    def _own_database_by_default(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        name = data.get("service_name") or cls.model_fields["service_name"].default
        base = f"127.0.0.1:55432/mandi_{name}"
        data.setdefault("database_url", f"postgresql://mandi_{name}_app@{base}")
        data.setdefault("migration_database_url", f"postgresql://mandi_{name}_owner@{base}")
        return data

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url", "migration_database_url", "read_database_url", "redis_url")
    @classmethod
    def _refuse_password_in_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        # A password inside a URL ends up in logs and process listings; it has its own field.
        if url is not None and urlsplit(url).password is not None:
            name = str(info.field_name)
            password = env_name(cls, _PASSWORD_FIELDS.get(name, name.replace("_url", "_password")))
            raise ValueError(f"holds a password: put it in {password} or {password}{FILE_SUFFIX}")
        return url

    @model_validator(mode="after")
    def _require_declared_secrets(self) -> Self:
        missing = [
            env_name(type(self), declared.setting)
            for declared in declared_secrets(type(self), self.service_name)
            if declared.required and getattr(self, declared.setting) is None
        ]
        if missing:
            raise ValueError(f"not set: {', '.join(missing)} (or their _FILE variants)")
        return self

    def secret(self, name: str) -> str:
        """The value of a secret setting that is set."""
        value = getattr(self, name)
        if not isinstance(value, SecretStr):
            raise TypeError(f"{name} is not a secret that is set")
        return value.get_secret_value()

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Self:
        if self.environment in RELAXED_ENVIRONMENTS:
            return self
        problems = secret_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self
