"""How the outside world reaches the auth service: HTTP and the command line."""
