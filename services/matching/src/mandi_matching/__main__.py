"""`python -m mandi_matching`: serve, migrate, consume (`--help` lists them)."""

from mandi_matching.entrypoints.service import DEFINITION
from mandi_runtime import service_main


def main() -> None:
    """Runs one command of the matching service."""
    service_main(DEFINITION)


if __name__ == "__main__":
    main()
