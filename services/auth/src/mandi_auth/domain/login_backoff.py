"""Brute-force protection: after a few failed sign-ins, each further attempt waits longer.

Failures are counted in three scopes. The hard backoff is on an account from one address: keyed
on the account alone, anyone could keep its owner out by guessing once per period. A softer
account-wide count still slows guessers spread over many addresses, and a lenient per-address
count slows one address trying many accounts. The same counting applies to an email that has
no account, so the answers never reveal whether an account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["LoginBackoff", "LoginScope"]


class LoginScope(StrEnum):
    """What one count of failed sign-ins is kept for."""

    ACCOUNT_FROM_ADDRESS = "account-from-address"
    ACCOUNT = "account"
    ADDRESS = "address"


@dataclass(frozen=True)
class LoginBackoff:
    """Free attempts, then exponential waits up to a cap (the Redis throttle's script agrees)."""

    free_attempts: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 900.0

    def wait_after(self, failures: int) -> float:
        """Seconds to wait before the next attempt, after `failures` consecutive failures."""
        excess = failures - self.free_attempts
        if excess < 0:
            return 0.0
        return float(min(self.max_seconds, self.base_seconds * 2.0**excess))
