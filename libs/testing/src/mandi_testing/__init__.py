"""Test helpers for Mandi: real infrastructure found or started, isolated per module and test."""

from mandi_testing.exports import assert_public_surface
from mandi_testing.http import asgi_client
from mandi_testing.infrastructure import (
    Infrastructure,
    InfrastructureUnavailable,
    find_infrastructure,
)
from mandi_testing.kafka import read_topic, temporary_topics, topic_name
from mandi_testing.postgres import TestDatabase, as_tenant, fresh_database
from mandi_testing.waiting import eventually

__all__ = [
    "Infrastructure",
    "InfrastructureUnavailable",
    "TestDatabase",
    "as_tenant",
    "asgi_client",
    "assert_public_surface",
    "eventually",
    "find_infrastructure",
    "fresh_database",
    "read_topic",
    "temporary_topics",
    "topic_name",
]
