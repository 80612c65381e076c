"""`python -m mandi_auth`: the auth service's commands."""

from mandi_auth.entrypoints.cli import main

if __name__ == "__main__":
    main()
