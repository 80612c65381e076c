"""The audit log and its checkpoints, append-only; the chains' bookkeeping; the signing keys.

Revision ID: 0001
Revises:
"""

from alembic import op

from mandi_db import disable_tenant_isolation, enable_tenant_isolation

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_APPEND_ONLY = ("audit_records", "audit_checkpoints", "audit_signing_keys")
# Not audit_records: COPY, the journal's way in, is refused on a table under row-level
# security. Every read of it names its tenant, from a verified principal (adapters/log.py).
_TENANT_TABLES = ("audit_checkpoints", "audit_chains")
# The journal's writer appends to many tenants' chains in one transaction: it alone sets this.
_WRITER = "current_setting('mandi.audit_writer', true) = 'on'"
_TABLES = """
    CREATE TABLE audit_records (
        tenant_id uuid NOT NULL,
        seq bigint NOT NULL CHECK (seq > 0),
        event_id text NOT NULL,
        type text NOT NULL,
        source text NOT NULL,
        aggregate text NOT NULL,
        actor text NOT NULL,
        occurred_at timestamptz NOT NULL,
        correlation_id text NOT NULL,
        payload_digest bytea NOT NULL CHECK (length(payload_digest) = 32),
        payload bytea NOT NULL,
        parties uuid[] NOT NULL,
        recorded_at timestamptz NOT NULL,
        prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
        hash bytea NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (tenant_id, seq),
        CONSTRAINT audit_records_one_successor UNIQUE (tenant_id, prev_hash),
        CONSTRAINT audit_records_event_once UNIQUE (event_id)
    );
    CREATE INDEX audit_records_by_aggregate ON audit_records (tenant_id, aggregate, seq);
    CREATE INDEX audit_records_by_actor ON audit_records (tenant_id, actor, seq);
    CREATE INDEX audit_records_by_type ON audit_records (tenant_id, type, seq);
    CREATE INDEX audit_records_by_correlation ON audit_records (tenant_id, correlation_id, seq);
    CREATE INDEX audit_records_by_time ON audit_records (tenant_id, occurred_at, seq);
    CREATE TABLE audit_checkpoints (
        tenant_id uuid NOT NULL,
        seq bigint NOT NULL CHECK (seq > 0),
        hash bytea NOT NULL CHECK (length(hash) = 32),
        signed_at timestamptz NOT NULL,
        key_id text NOT NULL,
        signature bytea NOT NULL CHECK (length(signature) = 64),
        PRIMARY KEY (tenant_id, seq)
    );
    CREATE TABLE audit_chains (
        tenant_id uuid PRIMARY KEY,
        head_seq bigint NOT NULL CHECK (head_seq >= 0),
        head_at timestamptz NOT NULL,
        checkpoint_seq bigint NOT NULL DEFAULT 0,
        checkpoint_at timestamptz
    );
    CREATE TABLE audit_signing_keys (
        key_id text PRIMARY KEY,
        public_key bytea NOT NULL CHECK (length(public_key) = 32),
        first_seen timestamptz NOT NULL
    )
"""
_REFUSE_CHANGE = """
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _append_only(table: str) -> list[str]:
    return [
        (
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        ),
        (
            f"CREATE TRIGGER {table}_never_truncated BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        ),
    ]


# Every role but the owner (the application role got DML through default privileges) keeps only
# INSERT and SELECT on the append-only tables.
_REVOKE_CHANGES = """
DO $$
DECLARE
    grantee_name name;
BEGIN
    REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES
        ON audit_records, audit_checkpoints, audit_signing_keys FROM PUBLIC;
    FOR grantee_name IN
        SELECT DISTINCT grantee.rolname
        FROM pg_class AS class
        CROSS JOIN LATERAL aclexplode(class.relacl) AS acl
        JOIN pg_roles AS grantee ON grantee.oid = acl.grantee
        WHERE class.relname IN ('audit_records', 'audit_checkpoints', 'audit_signing_keys')
          AND class.relnamespace = 'public'::regnamespace
          AND grantee.rolname <> current_user
    LOOP
        EXECUTE format(
            'REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES '
            'ON audit_records, audit_checkpoints, audit_signing_keys FROM %I',
            grantee_name
        );
    END LOOP;
END
$$
"""


def _writer_policy(table: str) -> str:
    return f"CREATE POLICY journal_writer ON {table} USING ({_WRITER}) WITH CHECK ({_WRITER})"


# The verifier lays out the canonical encoding in SQL from texts' bytes as the database keeps
# them (adapters/log.py): they must be UTF-8.
_UTF8_ONLY = """
DO $$
BEGIN
    IF pg_encoding_to_char(
        (SELECT encoding FROM pg_database WHERE datname = current_database())
    ) <> 'UTF8' THEN
        RAISE EXCEPTION 'the audit log needs a UTF8 database';
    END IF;
END
$$
"""


def upgrade() -> None:
    statements = [
        _UTF8_ONLY,
        *(statement.strip() for statement in _TABLES.split(";\n") if statement.strip()),
        _REFUSE_CHANGE,
        *(statement for table in _APPEND_ONLY for statement in _append_only(table)),
        *(statement for table in _TENANT_TABLES for statement in enable_tenant_isolation(table)),
        *(_writer_policy(table) for table in _TENANT_TABLES),
        _REVOKE_CHANGES,
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    for table in _TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS journal_writer ON {table}")
        for statement in disable_tenant_isolation(table):
            op.execute(statement)
    op.execute("DROP TABLE audit_signing_keys, audit_chains, audit_checkpoints, audit_records")
    op.execute("DROP FUNCTION audit_refuse_change()")
