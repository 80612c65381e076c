"""Mandi's cross-service events, registered in one registry."""

from mandi_contracts.auth import (
    AUTH_EVENTS,
    ApiKeyIssued,
    ApiKeyRevoked,
    ApiKeyRotated,
    TenantCreated,
    TenantReactivated,
    TenantSuspended,
    UserCreated,
)
from mandi_contracts.partners import (
    PARTNER_EVENTS,
    PartnerApproved,
    PartnerRegistered,
    PartnerReinstated,
    PartnerRejected,
    PartnerSubmitted,
    PartnerSuspended,
    PartnerUpdated,
    PartnerVerified,
)
from mandi_contracts.registry import EVENTS

__all__ = [
    "AUTH_EVENTS",
    "EVENTS",
    "PARTNER_EVENTS",
    "ApiKeyIssued",
    "ApiKeyRevoked",
    "ApiKeyRotated",
    "PartnerApproved",
    "PartnerRegistered",
    "PartnerReinstated",
    "PartnerRejected",
    "PartnerSubmitted",
    "PartnerSuspended",
    "PartnerUpdated",
    "PartnerVerified",
    "TenantCreated",
    "TenantReactivated",
    "TenantSuspended",
    "UserCreated",
]
