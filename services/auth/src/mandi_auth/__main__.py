"""`python -m mandi_auth`: serve, migrate, create-tenant… (`--help` lists them)."""

from mandi_auth.entrypoints.service import DEFINITION
from mandi_runtime import service_main


def main() -> None:
    """Runs one command of the auth service."""
    service_main(DEFINITION)


if __name__ == "__main__":
    main()
