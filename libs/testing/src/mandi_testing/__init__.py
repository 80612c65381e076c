"""Test helpers for Mandi: real infrastructure found or started, isolated per module and test."""

from mandi_testing.exports import assert_public_surface
from mandi_testing.infrastructure import Infrastructure, InfrastructureUnavailable, find_infrastructure
from mandi_testing.kafka import temporary_topics, topic_name
from mandi_testing.postgres import TestDatabase, fresh_database

__all__ = [
    "Infrastructure",
    "InfrastructureUnavailable",
    "TestDatabase",
    "assert_public_surface",
    "find_infrastructure",
    "fresh_database",
    "temporary_topics",
    "topic_name",
]
