"""`python -m mandi_audit`: serve, migrate, consume, and `verify` (offline: `--help` lists them)."""

import sys

from mandi_audit.entrypoints.offline import main as verify_offline
from mandi_audit.entrypoints.service import DEFINITION
from mandi_runtime import service_main


def main() -> None:
    """Runs one command of the audit service; `verify` needs no settings, database or Kafka."""
    if sys.argv[1:2] == ["verify"]:
        sys.exit(verify_offline(sys.argv[2:]))
    service_main(DEFINITION)


if __name__ == "__main__":
    main()
