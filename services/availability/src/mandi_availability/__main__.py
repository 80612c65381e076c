"""`python -m mandi_availability`: serve, migrate, consume (`--help` lists them)."""

from mandi_availability.entrypoints.service import DEFINITION
from mandi_runtime import service_main


def main() -> None:
    """Runs one command of the availability service."""
    service_main(DEFINITION)


if __name__ == "__main__":
    main()
