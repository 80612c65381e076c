"""The saga tables, as statements the owning service's migrations run.

Sagas carry a tenant's data (a trade's parties, quantities, prices), so both tables are under
row-level security like the service's own: a unit of work sees its tenant's sagas only, and the
deadline sweep visits tenants one by one. The index on due deadlines is partial: a finished
saga has no deadline, so the sweep's index holds only the sagas still waiting for something.
"""

from __future__ import annotations

from mandi_db import enable_tenant_isolation

__all__ = ["create_saga_tables", "drop_saga_tables"]

_CREATE = [
    """
    CREATE TABLE sagas (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        type text NOT NULL,
        status text NOT NULL,
        current_step integer NOT NULL,
        steps text[] NOT NULL,
        data jsonb NOT NULL,
        deadline timestamptz,
        attempts integer NOT NULL,
        version integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX sagas_due ON sagas (tenant_id, deadline) WHERE deadline IS NOT NULL",
    "CREATE INDEX sagas_by_status ON sagas (tenant_id, status, type)",
    """
    CREATE TABLE saga_history (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        saga_id uuid NOT NULL REFERENCES sagas (id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        at timestamptz NOT NULL,
        kind text NOT NULL,
        step text,
        detail jsonb NOT NULL
    )
    """,
    "CREATE INDEX saga_history_of_saga ON saga_history (saga_id, id)",
    *enable_tenant_isolation("sagas"),
    *enable_tenant_isolation("saga_history"),
]

_DROP = [
    "DROP TABLE IF EXISTS saga_history",
    "DROP TABLE IF EXISTS sagas",
]


def create_saga_tables() -> list[str]:
    """Statements that create the sagas and their history, each tenant's under row-level
    security."""
    return list(_CREATE)


def drop_saga_tables() -> list[str]:
    """Statements that undo `create_saga_tables`."""
    return list(_DROP)
