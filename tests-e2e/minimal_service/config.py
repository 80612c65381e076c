from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from mandi_config import ServiceSettings, secret


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MANDI_NOTES_", extra="ignore", frozen=True)

    service_name: str = "notes"
    http_port: int = 58199
    gateway_secret: SecretStr | None = secret("token", shared_file="gateway.secret")
