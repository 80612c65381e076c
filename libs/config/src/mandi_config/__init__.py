"""Settings for Mandi's services: an env prefix each, secrets from files, one-line start errors."""

from mandi_config.errors import ConfigurationError
from mandi_config.loading import load_settings
from mandi_config.secret_files import SecretFileSource
from mandi_config.settings import ServiceSettings
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
