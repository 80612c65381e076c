"""Confirmed reservations, and which command each saga step was.

A confirmed reservation is its trade's: the deadline sweep passes it by, a release gives it back.
A confirm step is recorded beside the reservations it confirmed, so each step now says which
command it was (`kind`): only a reserve step holds a quantity.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_OLD_STATUSES = "'reserved', 'refused', 'released'"
_STATUSES = "'reserved', 'confirmed', 'refused', 'released'"


def upgrade() -> None:
    op.execute(
        "ALTER TABLE reservations ADD COLUMN kind text NOT NULL DEFAULT 'reserve'"
        " CHECK (kind IN ('reserve', 'confirm', 'release'))"
    )
    # A release step is the one kind of step with neither a deadline nor a refusal.
    _unbound(
        "UPDATE reservations SET kind = 'release' WHERE deadline IS NULL AND status = 'released'"
    )
    op.execute("ALTER TABLE reservations ALTER COLUMN kind DROP DEFAULT")
    _allow_statuses(_STATUSES)
    _index_held("status IN ('reserved', 'confirmed')")


def downgrade() -> None:
    # Before confirmation a reservation was held until its deadline: a confirmed one is reserved
    # again (the sweep may give it back), and the confirm steps are forgotten.
    _unbound("DELETE FROM reservations WHERE kind = 'confirm'")
    _unbound("UPDATE reservations SET status = 'reserved' WHERE status = 'confirmed'")
    _index_held("status = 'reserved'")
    _allow_statuses(_OLD_STATUSES)
    op.execute("ALTER TABLE reservations DROP COLUMN kind")


def _unbound(statement: str) -> None:
    # Every tenant's rows: the owner is bound by row-level security too (FORCE) until it is
    # lifted for this statement.
    op.execute("ALTER TABLE reservations NO FORCE ROW LEVEL SECURITY")
    op.execute(statement)
    op.execute("ALTER TABLE reservations FORCE ROW LEVEL SECURITY")


def _allow_statuses(statuses: str) -> None:
    op.execute("ALTER TABLE reservations DROP CONSTRAINT reservations_status_check")
    op.execute(
        "ALTER TABLE reservations ADD CONSTRAINT reservations_status_check"
        f" CHECK (status IN ({statuses}))"
    )


def _index_held(predicate: str) -> None:
    op.execute("DROP INDEX reservations_held")
    op.execute(
        "CREATE INDEX reservations_held ON reservations (availability_id, saga_id)"
        f" WHERE {predicate}"
    )
