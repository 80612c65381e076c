"""How far apart two places are: the great-circle distance, as the crow flies.

Roads are longer, but the great circle ranks candidates the same way without a routing service,
and a desk's radius is set with that in mind.
"""

from __future__ import annotations

from decimal import Decimal
from math import asin, cos, radians, sin, sqrt

from mandi_matching.domain.offers import Candidate, Place

__all__ = ["EARTH_RADIUS_KM", "delivery_distance_km", "haversine_km"]

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


def haversine_km(first: Place, second: Place) -> float:
    """The great-circle distance between two places, in km."""
    latitude_step = radians(second.latitude - first.latitude)
    longitude_step = radians(second.longitude - first.longitude)
    along = (
        sin(latitude_step / 2) ** 2
        + cos(radians(first.latitude))
        * cos(radians(second.latitude))
        * sin(longitude_step / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * asin(sqrt(min(1.0, along)))


def delivery_distance_km(candidate: Candidate) -> Decimal:
    """How far the availability's goods lie from the requirement's delivery point, in km to
    the tenth: the figure both the radius rule and the distance factor read."""
    km = haversine_km(candidate.availability.terms.place, candidate.requirement.terms.place)
    return Decimal(str(round(km, 1)))
