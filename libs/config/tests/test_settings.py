from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from mandi_config import (
    ConfigurationError,
    DeclaredSecret,
    ServiceSettings,
    declared_secrets,
    load_settings,
    new_secret_value,
    secret,
)

STRONG = "q7R-pW2x-9vLk-Fz4m"
SECRET_VARIABLES = (
    "MANDI_DEMO_DATABASE_PASSWORD",
    "MANDI_DEMO_MIGRATION_DATABASE_PASSWORD",
    "MANDI_DEMO_REDIS_PASSWORD",
    "MANDI_DEMO_SIGNING_KEY",
)


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MANDI_DEMO_")

    service_name: str = "demo"
    signing_key: SecretStr | None = None


def production(monkeypatch: pytest.MonkeyPatch, **overrides: str) -> None:
    monkeypatch.setenv("MANDI_DEMO_ENVIRONMENT", "production")
    for variable in SECRET_VARIABLES:
        monkeypatch.setenv(variable, STRONG)
    for variable, value in overrides.items():
        monkeypatch.setenv(variable, value)


def test_development_starts_with_local_defaults_and_no_secrets() -> None:
    settings = load_settings(DemoSettings)

    assert settings.environment == "development"
    # The service's own database and roles, as provisioning names them.
    assert settings.database_url == "postgresql://mandi_demo_app@127.0.0.1:55432/mandi_demo"
    assert settings.migration_database_url == (
        "postgresql://mandi_demo_owner@127.0.0.1:55432/mandi_demo"
    )
    assert settings.kafka_bootstrap_servers == "127.0.0.1:59092"
    assert settings.redis_url == "redis://127.0.0.1:56379/0"
    assert settings.database_password is None


def test_values_come_from_the_service_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANDI_DEMO_HTTP_PORT", "8123")
    monkeypatch.setenv("MANDI_DEMO_LOG_LEVEL", "debug")
    monkeypatch.setenv("MANDI_OTHER_HTTP_PORT", "9999")

    settings = load_settings(DemoSettings)

    assert settings.http_port == 8123
    assert settings.log_level == "DEBUG"


def test_production_with_real_secrets_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch)

    settings = load_settings(DemoSettings)

    assert settings.database_password is not None
    assert settings.database_password.get_secret_value() == STRONG


def test_a_missing_secret_in_production_names_its_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    production(monkeypatch)
    monkeypatch.delenv("MANDI_DEMO_DATABASE_PASSWORD")

    with pytest.raises(ConfigurationError) as raised:
        load_settings(DemoSettings)

    assert str(raised.value) == (
        "MANDI_DEMO_DATABASE_PASSWORD is empty: set it or MANDI_DEMO_DATABASE_PASSWORD_FILE"
    )


@pytest.mark.parametrize(
    "weak", ["changeme", "Change-Me", "secret", "password", "admin", "dev-key-1", "insecure123"]
)
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_a_default_secret_is_refused_without_being_echoed(
    monkeypatch: pytest.MonkeyPatch, weak: str, environment: str
) -> None:
    production(monkeypatch, MANDI_DEMO_ENVIRONMENT=environment, MANDI_DEMO_SIGNING_KEY=weak)

    with pytest.raises(ConfigurationError) as raised:
        load_settings(DemoSettings)

    message = str(raised.value)
    assert message.startswith("MANDI_DEMO_SIGNING_KEY is a well-known default")
    assert weak.lower() not in message.lower()
    assert "\n" not in message


def test_every_weak_secret_is_listed_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch, MANDI_DEMO_REDIS_PASSWORD="", MANDI_DEMO_SIGNING_KEY="test")

    with pytest.raises(ConfigurationError) as raised:
        load_settings(DemoSettings)

    message = str(raised.value)
    assert "MANDI_DEMO_REDIS_PASSWORD is empty" in message
    assert "MANDI_DEMO_SIGNING_KEY is a well-known default" in message
    assert "\n" not in message


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_and_test_accept_default_secrets(
    monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    monkeypatch.setenv("MANDI_DEMO_ENVIRONMENT", environment)
    monkeypatch.setenv("MANDI_DEMO_DATABASE_PASSWORD", "changeme")

    settings = load_settings(DemoSettings)

    assert settings.database_password == SecretStr("changeme")


def test_a_secret_is_read_from_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    production(monkeypatch)
    monkeypatch.delenv("MANDI_DEMO_DATABASE_PASSWORD")
    secret_file = tmp_path / "database.password"
    secret_file.write_text("from-a-file-7Hq2\n")
    monkeypatch.setenv("MANDI_DEMO_DATABASE_PASSWORD_FILE", str(secret_file))

    settings = load_settings(DemoSettings)

    assert settings.database_password == SecretStr("from-a-file-7Hq2")


def test_any_field_may_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    servers = tmp_path / "kafka"
    servers.write_text("kafka-1:9092,kafka-2:9092\n")
    monkeypatch.setenv("MANDI_DEMO_KAFKA_BOOTSTRAP_SERVERS_FILE", str(servers))

    assert load_settings(DemoSettings).kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"


def test_a_default_secret_in_a_file_is_refused_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    production(monkeypatch)
    monkeypatch.delenv("MANDI_DEMO_REDIS_PASSWORD")
    secret_file = tmp_path / "redis.password"
    secret_file.write_text("changeme\n")
    monkeypatch.setenv("MANDI_DEMO_REDIS_PASSWORD_FILE", str(secret_file))

    with pytest.raises(ConfigurationError, match="MANDI_DEMO_REDIS_PASSWORD is a well-known"):
        load_settings(DemoSettings)


def test_a_variable_and_its_file_together_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_text("from-a-file-7Hq2")
    monkeypatch.setenv("MANDI_DEMO_DATABASE_PASSWORD", "from-the-env-8Kd1")
    monkeypatch.setenv("MANDI_DEMO_DATABASE_PASSWORD_FILE", str(secret_file))

    with pytest.raises(ConfigurationError) as raised:
        load_settings(DemoSettings)

    assert str(raised.value) == (
        "MANDI_DEMO_DATABASE_PASSWORD and MANDI_DEMO_DATABASE_PASSWORD_FILE are both set: keep one"
    )


def test_an_unreadable_file_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MANDI_DEMO_DATABASE_PASSWORD_FILE", str(tmp_path / "absent"))

    with pytest.raises(
        ConfigurationError, match=r"^MANDI_DEMO_DATABASE_PASSWORD_FILE names .*absent"
    ):
        load_settings(DemoSettings)


def test_a_password_inside_a_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANDI_DEMO_DATABASE_URL", "postgresql://app:hunter2-x9@db:5432/demo")

    with pytest.raises(ConfigurationError) as raised:
        load_settings(DemoSettings)

    message = str(raised.value)
    assert message.startswith("MANDI_DEMO_DATABASE_URL: holds a password")
    assert "MANDI_DEMO_DATABASE_PASSWORD" in message
    assert "hunter2" not in message


def test_an_invalid_value_names_its_variable_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MANDI_DEMO_HTTP_PORT", "eighty-eighty")

    with pytest.raises(ConfigurationError) as raised:
        load_settings(DemoSettings)

    assert str(raised.value).startswith("MANDI_DEMO_HTTP_PORT: Input should be a valid integer")
    assert "eighty" not in str(raised.value)


def test_a_required_field_names_its_variable() -> None:
    class Unnamed(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="MANDI_UNNAMED_")

    with pytest.raises(ConfigurationError) as raised:
        load_settings(Unnamed)

    assert str(raised.value) == "MANDI_UNNAMED_SERVICE_NAME is not set"


class GuardedSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MANDI_GUARDED_")

    service_name: str = "guarded"
    field_keys: SecretStr | None = secret("keyring")
    vendor_token: SecretStr | None = secret("token", required=False, shared_file="vendor.token")


def test_a_required_secret_missing_stops_the_service_naming_its_variable() -> None:
    with pytest.raises(ConfigurationError, match="MANDI_GUARDED_FIELD_KEYS") as refused:
        load_settings(GuardedSettings)
    assert "VENDOR_TOKEN" not in str(refused.value)  # optional


def test_declared_secrets_say_how_each_is_made_and_where_it_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    declared = {found.setting: found for found in declared_secrets(GuardedSettings, "guarded")}
    assert declared["field_keys"] == DeclaredSecret(
        "field_keys", "keyring", required=True, file="guarded-field-keys"
    )
    assert declared["vendor_token"].file == "vendor.token"
    monkeypatch.setenv("MANDI_GUARDED_FIELD_KEYS", new_secret_value("keyring"))
    assert load_settings(GuardedSettings).secret("field_keys").startswith("k1:")


def test_without_a_read_url_every_read_goes_to_the_primary() -> None:
    settings = load_settings(DemoSettings)

    assert settings.read_database_url is None


def test_a_read_replica_is_named_by_its_own_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANDI_DEMO_READ_DATABASE_URL", "postgresql://app@replica:5432/demo")
    monkeypatch.setenv("MANDI_DEMO_READ_DATABASE_MAX_LAG_SECONDS", "2.5")

    settings = load_settings(DemoSettings)

    assert settings.read_database_url == "postgresql://app@replica:5432/demo"
    assert settings.read_database_max_lag_seconds == 2.5
    assert settings.read_database_check_seconds == 1.0


def test_a_password_inside_the_read_url_points_at_the_database_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MANDI_DEMO_READ_DATABASE_URL", "postgresql://app:hunter2-x9@replica/demo")

    with pytest.raises(ConfigurationError) as raised:
        load_settings(DemoSettings)

    message = str(raised.value)
    assert message.startswith("MANDI_DEMO_READ_DATABASE_URL: holds a password")
    assert "put it in MANDI_DEMO_DATABASE_PASSWORD or MANDI_DEMO_DATABASE_PASSWORD_FILE" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "setting", ["READ_DATABASE_MAX_LAG_SECONDS", "READ_DATABASE_CHECK_SECONDS"]
)
def test_a_replica_bound_must_be_positive(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv(f"MANDI_DEMO_{setting}", "0")

    with pytest.raises(ConfigurationError, match=f"^MANDI_DEMO_{setting}"):
        load_settings(DemoSettings)
