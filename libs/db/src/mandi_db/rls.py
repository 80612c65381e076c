"""Row-level security statements for migrations: each tenant sees and writes only its own rows.

FORCE makes the policy bind the table's owner too, so nothing but a superuser or a role with
BYPASSRLS escapes it; the application role owns nothing and has neither.
"""

from __future__ import annotations

import re

from mandi_db.tenancy import TENANT_SETTING

__all__ = ["disable_tenant_isolation", "enable_tenant_isolation"]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_POLICY = "tenant_isolation"


def _checked(*identifiers: str) -> None:
    for identifier in identifiers:
        if not _IDENTIFIER.match(identifier):
            raise ValueError(f"not a plain lower-case identifier: {identifier!r}")


def enable_tenant_isolation(table: str, *, column: str = "tenant_id") -> list[str]:
    """Statements that confine `table` to the rows whose `column` is the transaction's tenant."""
    _checked(table, column)
    tenant = f"NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        (
            f"CREATE POLICY {_POLICY} ON {table} USING ({column} = {tenant}) "
            f"WITH CHECK ({column} = {tenant})"
        ),
    ]


def disable_tenant_isolation(table: str) -> list[str]:
    """Statements that undo `enable_tenant_isolation` (for downgrades)."""
    _checked(table)
    return [
        f"DROP POLICY IF EXISTS {_POLICY} ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]
