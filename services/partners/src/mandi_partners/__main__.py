"""`python -m mandi_partners`: the partners service's commands."""

from mandi_partners.entrypoints.cli import main

if __name__ == "__main__":
    main()
