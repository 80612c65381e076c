"""The consumer's bookkeeping: keys waiting behind a dead letter, and the messages parked there.

Partners consumes auth's events from this revision on (mandi_messaging's sequenced dead letters).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from mandi_messaging import create_sequencing_tables, drop_sequencing_tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in create_sequencing_tables():
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_sequencing_tables():
        op.execute(statement)
