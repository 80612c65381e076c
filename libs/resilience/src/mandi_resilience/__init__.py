"""External calls with a timeout, jittered retries, a circuit breaker, a fallback and metrics.

bureau = GuardedCall(CallPolicy(name="credit-bureau", retry_on=(httpx.TransportError,)))
report = await bureau.call(lambda: client.report(pan), fallback=lambda error: UNKNOWN)
"""

from mandi_resilience.guarded_call import CircuitOpen, Fallback, GuardedCall
from mandi_resilience.policy import CallPolicy

__all__ = ["CallPolicy", "CircuitOpen", "Fallback", "GuardedCall"]
