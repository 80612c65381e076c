"""`python -m mandi_webhook`: serve, migrate, reseal (`--help` lists them)."""

from mandi_runtime import service_main
from mandi_webhook.entrypoints.service import DEFINITION


def main() -> None:
    """Runs one command of the webhook service."""
    service_main(DEFINITION)


if __name__ == "__main__":
    main()
