"""`python -m mandi_partners`: serve, migrate, reseal (`--help` lists them)."""

from mandi_partners.entrypoints.service import DEFINITION
from mandi_runtime import service_main


def main() -> None:
    """Runs one command of the partners service."""
    service_main(DEFINITION)


if __name__ == "__main__":
    main()
