"""Configuration for Mandi's services: settings per env prefix, secrets from files, fail-fast start."""

from mandi_config.secrets import ConfigurationError, SecretFileSource
from mandi_config.settings import ServiceSettings, load_settings
from mandi_config.startup import EXIT_STARTUP_FAILURE, StartupError, run_or_exit

__all__ = [
    "EXIT_STARTUP_FAILURE",
    "ConfigurationError",
    "SecretFileSource",
    "ServiceSettings",
    "StartupError",
    "load_settings",
    "run_or_exit",
]
