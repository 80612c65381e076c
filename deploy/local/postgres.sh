#!/usr/bin/env bash
# PostgreSQL from Debian's packages, run as our own cluster under .local/postgres on our own port.
# Usage: postgres.sh install|up|down|status
source "$(dirname "${BASH_SOURCE[0]}")/pg_lib.sh"

PG_DIR="$LOCAL_DIR/postgres"
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/postgres.log"

# The service user may not traverse a private project folder: every path it is given is the
# data folder's real one (see prepare_cluster_dir), never one through the link.
use_real_paths() {
  PG_DIR="$(real_cluster_dir "$PG_DIR")"
  PG_DATA="$PG_DIR/data"
  PG_LOG="$PG_DIR/postgres.log"
}

install() {
  install_postgres
}

init_cluster() {
  [ -f "$PG_DATA/PG_VERSION" ] && return 0
  local bindir password_copy; bindir="$(pg_bindir)"
  ensure_secret "$PG_PASSWORD_FILE" >/dev/null
  password_copy="$PG_DIR/initdb.pw"
  command install -m 600 -o "$(service_user)" "$PG_PASSWORD_FILE" "$password_copy"
  say "creating the PostgreSQL cluster in $PG_DATA"
  as_service_user "$bindir/initdb" -D "$PG_DATA" -U postgres --pwfile="$password_copy" \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { rm -f "$password_copy"; die "initdb failed, see $PG_DIR/initdb.log"; }
  rm -f "$password_copy"
  as_service_user bash -c "echo \"include_if_exists = 'mandi.conf'\" >> '$PG_DATA/postgresql.conf'"
}

# Written on every start so a changed port applies.
write_settings() {
  as_service_user tee "$PG_DATA/mandi.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $MANDI_PG_PORT
unix_socket_directories = ''
max_connections = $PG_MAX_CONNECTIONS
shared_buffers = 256MB
log_line_prefix = '%m [%p] %q%u@%d '
CONF
}

up() {
  install
  prepare_cluster_dir "$PG_DIR"
  use_real_paths
  if cluster_runs "$PG_DATA"; then say "postgres: running on 127.0.0.1:$MANDI_PG_PORT"; return 0; fi
  require_port_free PostgreSQL "$MANDI_PG_PORT" MANDI_PG_PORT
  init_cluster
  write_settings
  start_cluster PostgreSQL "$PG_DATA" "$PG_LOG" "$MANDI_PG_PORT"
  say "postgres: started on 127.0.0.1:$MANDI_PG_PORT"
}

down() {
  use_real_paths
  [ -d "$PG_DATA" ] || return 0
  stop_cluster "$PG_DATA"
  say "postgres: stopped"
}

status() {
  use_real_paths
  if cluster_runs "$PG_DATA"; then say "postgres: running on 127.0.0.1:$MANDI_PG_PORT (data $PG_DATA)"
  else say "postgres: stopped"; return 1; fi
}

case "${1:-}" in
  install|up|down|status) "$1" ;;
  *) die "usage: $0 install|up|down|status" ;;
esac
