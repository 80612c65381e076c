#!/usr/bin/env bash
# PostgreSQL from Debian's packages, run as our own cluster under .local/postgres on our own port.
# Usage: postgres.sh install|up|down|status
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_DIR="$LOCAL_DIR/postgres"
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/postgres.log"

# The service user may not traverse a private project folder: every path it is given is the
# data folder's real one (see prepare_data_dir), never one through the link.
use_real_paths() {
  [ -e "$PG_DIR" ] || return 0
  PG_DIR="$(readlink -f "$PG_DIR")"
  PG_DATA="$PG_DIR/data"
  PG_LOG="$PG_DIR/postgres.log"
}
PG_PASSWORD_FILE="$SECRETS_DIR/postgres.password"
PG_MIN_MAJOR=15

pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] || return 1
  local major; major="$(basename "$(dirname "$dir")")"
  [ "${major%%.*}" -ge "$PG_MIN_MAJOR" ] || return 1
  printf '%s\n' "$dir"
}

install() {
  pg_bindir >/dev/null || ensure_apt_packages postgresql postgresql-contrib
  pg_bindir >/dev/null || die "PostgreSQL $PG_MIN_MAJOR+ not found under /usr/lib/postgresql after installing"
}

# PostgreSQL refuses to run as root, so a root caller runs it as the postgres system user.
service_user() {
  if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  printf 'postgres\n'
}

as_service_user() {
  local user; user="$(service_user)"
  if [ "$user" = "$(id -un)" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

# The service user must reach the data folder; a project under a private home cannot be
# traversed by it, so the data then lives in /var/tmp with a link from .local.
prepare_data_dir() {
  mkdir -p "$LOCAL_DIR"
  if [ ! -e "$PG_DIR" ]; then
    mkdir -p "$PG_DIR"
    chown "$(service_user)" "$PG_DIR"
    if ! as_service_user test -w "$PG_DIR"; then
      rmdir "$PG_DIR"
      # Named after the data folder it stands for: a second cluster (tests') never shares it.
      local elsewhere="/var/tmp/mandi-postgres-$(printf '%s' "$PG_DIR" | sha1sum | cut -c1-12)"
      mkdir -p "$elsewhere"; chown "$(service_user)" "$elsewhere"; chmod 700 "$elsewhere"
      ln -s "$elsewhere" "$PG_DIR"
    fi
  fi
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
  as_service_user tee "$PG_DATA/mandi.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $MANDI_PG_PORT
unix_socket_directories = ''
max_connections = 300
shared_buffers = 256MB
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

is_running() {
  [ -f "$PG_DATA/PG_VERSION" ] && as_service_user "$(pg_bindir)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

up() {
  install
  prepare_data_dir
  use_real_paths
  if is_running; then say "postgres: running on 127.0.0.1:$MANDI_PG_PORT"; return 0; fi
  require_port_free PostgreSQL "$MANDI_PG_PORT" MANDI_PG_PORT
  init_cluster
  write_settings
  as_service_user touch "$PG_LOG"
  as_service_user "$(pg_bindir)/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null \
    || die "PostgreSQL did not start, see $PG_LOG"
  "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$MANDI_PG_PORT" || die "PostgreSQL is not accepting connections, see $PG_LOG"
  say "postgres: started on 127.0.0.1:$MANDI_PG_PORT"
}

down() {
  use_real_paths
  [ -d "$PG_DATA" ] || return 0
  is_running && as_service_user "$(pg_bindir)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
  say "postgres: stopped"
}

status() {
  use_real_paths
  if is_running; then say "postgres: running on 127.0.0.1:$MANDI_PG_PORT (data $PG_DATA)"
  else say "postgres: stopped"; return 1; fi
}

case "${1:-}" in
  install|up|down|status) "$1" ;;
  *) die "usage: $0 install|up|down|status" ;;
esac
