"""Mandi's database layer: asyncpg engines, units of work, tenant isolation, read replicas."""

from mandi_db.availability import database_unavailable
from mandi_db.database import ServiceDatabase, service_database
from mandi_db.engine import create_database_engine, create_session_factory, database_url
from mandi_db.idempotency import (
    Answer,
    IdempotencyKey,
    IdempotencyRecords,
    IdempotencyReused,
    IdempotencyStore,
    IdempotentUnitOfWork,
    create_idempotency_table,
    drop_idempotency_table,
    idempotently,
    request_fingerprint,
)
from mandi_db.ports import TransactionPort
from mandi_db.provisioning import DatabaseSpec, drop_database, provision_database
from mandi_db.queries import PreparedQuery, QueryRow, ReadTransaction, driver_of
from mandi_db.replicas import ReadReplica, ReadSessions
from mandi_db.repository import (
    SealedColumn,
    SqlRepository,
    SqlTenantDirectory,
    StatementSource,
)
from mandi_db.rls import disable_tenant_isolation, enable_tenant_isolation
from mandi_db.tenancy import TENANT_SETTING, TenantAwareSession
from mandi_db.unit_of_work import TenantlessUnitOfWork, TenantRequired, Transaction, UnitOfWork

__all__ = [
    "TENANT_SETTING",
    "Answer",
    "DatabaseSpec",
    "IdempotencyKey",
    "IdempotencyRecords",
    "IdempotencyReused",
    "IdempotencyStore",
    "IdempotentUnitOfWork",
    "PreparedQuery",
    "QueryRow",
    "ReadReplica",
    "ReadSessions",
    "ReadTransaction",
    "SealedColumn",
    "ServiceDatabase",
    "SqlRepository",
    "SqlTenantDirectory",
    "StatementSource",
    "TenantAwareSession",
    "TenantRequired",
    "TenantlessUnitOfWork",
    "Transaction",
    "TransactionPort",
    "UnitOfWork",
    "create_database_engine",
    "create_idempotency_table",
    "create_session_factory",
    "database_unavailable",
    "database_url",
    "disable_tenant_isolation",
    "driver_of",
    "drop_database",
    "drop_idempotency_table",
    "enable_tenant_isolation",
    "idempotently",
    "provision_database",
    "request_fingerprint",
    "service_database",
]
