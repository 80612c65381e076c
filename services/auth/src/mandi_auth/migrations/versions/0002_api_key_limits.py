"""An API key's own limit, overriding its plan's: a rate (per second, burst) and a daily quota.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("rate_per_second", sa.Float(), nullable=True))
    op.add_column("api_keys", sa.Column("rate_burst", sa.Integer(), nullable=True))
    op.add_column("api_keys", sa.Column("quota_per_day", sa.Integer(), nullable=True))
    # A rate comes whole; a quota only with a rate (the domain's Limit has both).
    op.create_check_constraint(
        "api_keys_own_limit_whole",
        "api_keys",
        "(rate_per_second IS NULL AND rate_burst IS NULL AND quota_per_day IS NULL)"
        " OR (rate_per_second > 0 AND rate_burst >= 1"
        " AND (quota_per_day IS NULL OR quota_per_day >= 1))",
    )


def downgrade() -> None:
    op.drop_constraint("api_keys_own_limit_whole", "api_keys", type_="check")
    op.drop_column("api_keys", "quota_per_day")
    op.drop_column("api_keys", "rate_burst")
    op.drop_column("api_keys", "rate_per_second")
