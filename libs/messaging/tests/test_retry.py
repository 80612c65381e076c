from mandi_messaging import RetryPolicy


def test_backoff_grows_with_jitter_and_stays_under_the_cap() -> None:
    policy = RetryPolicy(attempts=6, initial_backoff=0.1, max_backoff=1.0)
    for failed in range(1, 7):
        ceiling = min(1.0, 0.1 * 2 ** (failed - 1))
        delays = [policy.backoff(failed) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 100, "full jitter spreads the delays"
