"""`python -m mandi_risk`: serve, migrate, consume, train (`--help` lists them)."""

from mandi_risk.entrypoints.service import DEFINITION
from mandi_runtime import service_main


def main() -> None:
    """Runs one command of the risk service."""
    service_main(DEFINITION)


if __name__ == "__main__":
    main()
