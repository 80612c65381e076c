"""Settings for Mandi's services: an env prefix each, secrets from files, one-line start errors."""

from mandi_config.declared_secrets import (
    DeclaredSecret,
    SecretKind,
    declared_secrets,
    new_secret_value,
    secret,
)
from mandi_config.errors import ConfigurationError
from mandi_config.loading import load_settings
from mandi_config.secret_files import SecretFileSource
from mandi_config.settings import ServiceSettings
from mandi_config.startup import EXIT_STARTUP_FAILURE, StartupError, run_or_exit

__all__ = [
    "EXIT_STARTUP_FAILURE",
    "ConfigurationError",
    "DeclaredSecret",
    "SecretFileSource",
    "SecretKind",
    "ServiceSettings",
    "StartupError",
    "declared_secrets",
    "load_settings",
    "new_secret_value",
    "run_or_exit",
    "secret",
]
