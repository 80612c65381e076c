"""Brute-force protection: after a few failed sign-ins, each further attempt waits longer.

The same counting applies to an email that has no account, so the answers never reveal
whether an account exists.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LoginBackoff"]


@dataclass(frozen=True)
class LoginBackoff:
    """Free attempts, then exponential waits up to a cap."""

    free_attempts: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 900.0

    def wait_after(self, failures: int) -> float:
        """Seconds to wait before the next attempt, after `failures` consecutive failures."""
        excess = failures - self.free_attempts
        if excess < 0:
            return 0.0
        return float(min(self.max_seconds, self.base_seconds * 2.0**excess))
