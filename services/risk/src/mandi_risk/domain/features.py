"""What a scorer sees of a proposed trade: six factors, each a number in a known range.

Every scorer (the rule-based scorecard, the trained model) takes the same `Features`, so a
breakdown names the same factors whichever model decided, and drift is measured on them. The
insider-trading flag is not a feature: it rejects outright, whatever the score.

| factor            | range   | what it is                                                      |
|-------------------|---------|-----------------------------------------------------------------|
| credit_headroom   | -1 … 1  | (limit - exposure - trade value) / limit; below 0 is over limit |
| rating            | 0 … 1   | the partner's rating on a scale where 1 is the best (AAA)       |
| on_time_ratio     | 0 … 1   | the share of its past payments made on time                     |
| days_late         | 0 … 1   | its average days late, over 90 (capped at 90)                   |
| concentration     | 0 … 1   | the share of its exposure, after the trade, with this seller    |
| bureau            | 0 … 1   | the credit bureau's score, (score - 300) / 600; None: unknown   |
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["BOUNDS", "FEATURES", "Features"]

FEATURES = (
    "credit_headroom",
    "rating",
    "on_time_ratio",
    "days_late",
    "concentration",
    "bureau",
)
BOUNDS: dict[str, tuple[float, float]] = {
    "credit_headroom": (-1.0, 1.0),
    "rating": (0.0, 1.0),
    "on_time_ratio": (0.0, 1.0),
    "days_late": (0.0, 1.0),
    "concentration": (0.0, 1.0),
    "bureau": (0.0, 1.0),
}


@dataclass(frozen=True)
class Features:
    """One proposed trade's factors, each clamped into its range (see the module's table)."""

    credit_headroom: float
    rating: float
    on_time_ratio: float
    days_late: float
    concentration: float
    bureau: float | None  # None: no bureau score, live or remembered

    def __post_init__(self) -> None:
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, min(high, max(low, float(value))))

    def as_dict(self) -> dict[str, float | None]:
        """The factors by name, in FEATURES order."""
        return asdict(self)
