#!/usr/bin/env bash
# A streaming replica of the local PostgreSQL (postgres.sh) on its own port: a hot standby that
# services send reads to (MANDI_<SERVICE>_READ_DATABASE_URL). Its data is under
# .local/postgres-replica; it is a pg_basebackup of the primary, kept current by streaming.
# Usage: replica.sh up|down|status|running   (infra.sh runs it when MANDI_PG_REPLICA=1)
source "$(dirname "${BASH_SOURCE[0]}")/pg_lib.sh"

REPLICA_DIR="$LOCAL_DIR/postgres-replica"
REPLICATOR=mandi_replicator
REPLICATOR_PASSWORD_FILE="$SECRETS_DIR/postgres-replicator.password"

use_real_paths() {
  REPLICA_DIR="$(real_cluster_dir "$REPLICA_DIR")"
  REPLICA_DATA="$REPLICA_DIR/data"
  REPLICA_LOG="$REPLICA_DIR/postgres.log"
  PASSFILE="$REPLICA_DIR/replicator.pgpass"
}
use_real_paths

wanted() {
  [ "$MANDI_PG_REPLICA" = 1 ]
}

# The role the standby streams as; initdb's pg_hba.conf already lets replication connections in
# from 127.0.0.1, a line is added only if someone removed it.
allow_replication() {
  local password hba
  password="$(ensure_secret "$REPLICATOR_PASSWORD_FILE")"
  superuser_sql "$MANDI_PG_PORT" "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$REPLICATOR') THEN CREATE ROLE $REPLICATOR; END IF;
    END \$\$;
    ALTER ROLE $REPLICATOR WITH LOGIN REPLICATION PASSWORD '$password'" >/dev/null \
    || die "could not create the replication role on the primary (127.0.0.1:$MANDI_PG_PORT)"
  hba="$(superuser_sql "$MANDI_PG_PORT" "SHOW hba_file")"
  grep -Eq "^host[[:space:]]+replication[[:space:]]+(all|$REPLICATOR)[[:space:]]+127\.0\.0\.1/32" "$hba" && return 0
  printf 'host    replication     %s    127.0.0.1/32    scram-sha-256\n' "$REPLICATOR" >> "$hba"
  superuser_sql "$MANDI_PG_PORT" "SELECT pg_reload_conf()" >/dev/null
}

# The password reaches pg_basebackup and the standby through a file only the service user reads.
write_passfile() {
  (umask 077; printf '127.0.0.1:*:replication:%s:%s\n' "$REPLICATOR" "$(cat "$REPLICATOR_PASSWORD_FILE")" > "$PASSFILE")
  chown "$(service_user)" "$PASSFILE"
}

# A copy of a primary since created anew (its .local/postgres deleted) can never follow it.
forget_copy_of_another_primary() {
  [ -f "$REPLICA_DATA/PG_VERSION" ] || return 0
  local primary copy
  primary="$(superuser_sql "$MANDI_PG_PORT" "SELECT system_identifier FROM pg_control_system()")"
  copy="$(as_service_user env LC_ALL=C "$(pg_bindir)/pg_controldata" -D "$REPLICA_DATA" \
    | sed -n 's/^Database system identifier: *//p')"
  [ "$primary" = "$copy" ] && return 0
  say "postgres replica: its data is a copy of another primary, copying this one again"
  as_service_user rm -rf "$REPLICA_DATA"
}

copy_primary() {
  [ -f "$REPLICA_DATA/PG_VERSION" ] && return 0
  say "postgres replica: copying the primary into $REPLICA_DATA (pg_basebackup)"
  as_service_user env -u PGPASSWORD PGPASSFILE="$PASSFILE" "$(pg_bindir)/pg_basebackup" \
      -h 127.0.0.1 -p "$MANDI_PG_PORT" -U "$REPLICATOR" -D "$REPLICA_DATA" \
      --wal-method=stream --checkpoint=fast >"$REPLICA_DIR/basebackup.log" 2>&1 \
    || { as_service_user rm -rf "$REPLICA_DATA"; die "pg_basebackup failed, see $REPLICA_DIR/basebackup.log"; }
  # What `pg_basebackup -R` writes, but the primary's address goes into mandi.conf, rewritten on
  # every start, so a moved MANDI_PG_PORT applies (postgresql.auto.conf would override it).
  as_service_user touch "$REPLICA_DATA/standby.signal"
}

# Replaces the primary's mandi.conf that came with the copy; written on every start.
write_settings() {
  as_service_user tee "$REPLICA_DATA/mandi.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $MANDI_PG_REPLICA_PORT
unix_socket_directories = ''
max_connections = $PG_MAX_CONNECTIONS
shared_buffers = 128MB
hot_standby = on
# A long read on the standby holds back the primary's vacuum instead of being cancelled by it.
hot_standby_feedback = on
primary_conninfo = 'host=127.0.0.1 port=$MANDI_PG_PORT user=$REPLICATOR passfile=''$PASSFILE'' application_name=mandi_replica'
log_line_prefix = '%m [%p] %q%u@%d '
CONF
}

up() {
  install_postgres
  "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$MANDI_PG_PORT" \
    || die "the primary PostgreSQL does not run on 127.0.0.1:$MANDI_PG_PORT: start it first (make infra-up)"
  prepare_cluster_dir "$LOCAL_DIR/postgres-replica"
  use_real_paths
  if cluster_runs "$REPLICA_DATA"; then say "postgres replica: running on 127.0.0.1:$MANDI_PG_REPLICA_PORT"; return 0; fi
  require_port_free "the PostgreSQL replica" "$MANDI_PG_REPLICA_PORT" MANDI_PG_REPLICA_PORT
  allow_replication
  write_passfile
  forget_copy_of_another_primary
  copy_primary
  write_settings
  start_cluster "The PostgreSQL replica" "$REPLICA_DATA" "$REPLICA_LOG" "$MANDI_PG_REPLICA_PORT"
  say "postgres replica: started on 127.0.0.1:$MANDI_PG_REPLICA_PORT, streaming from 127.0.0.1:$MANDI_PG_PORT"
}

down() {
  [ -d "$REPLICA_DATA" ] || return 0
  stop_cluster "$REPLICA_DATA"
  say "postgres replica: stopped"
}

# Seconds the standby's replay is behind, as mandi_db measures it (0 when it has replayed all
# it received while streaming; an idle primary sends nothing, which is not lag).
lag() {
  superuser_sql "$MANDI_PG_REPLICA_PORT" "SELECT round(CASE
      WHEN (SELECT pid FROM pg_stat_wal_receiver) IS NOT NULL
        AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
      ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END, 1)" 2>/dev/null
}

status() {
  if cluster_runs "$REPLICA_DATA"; then
    say "postgres replica: running on 127.0.0.1:$MANDI_PG_REPLICA_PORT (data $REPLICA_DATA), $(lag || echo '?') s behind the primary"
  elif wanted; then say "postgres replica: stopped"; return 1
  else say "postgres replica: not running (make infra-up REPLICA=1 starts it)"
  fi
}

running() {
  cluster_runs "$REPLICA_DATA"
}

case "${1:-}" in
  up|down|status|running) "$1" ;;
  *) die "usage: $0 up|down|status|running" ;;
esac
