# What postgres.sh (the primary) and replica.sh (its standby) share. Sourced, never run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_MIN_MAJOR=15
PG_PASSWORD_FILE="$SECRETS_DIR/postgres.password"
# A hot standby refuses to start with fewer connections than its primary allows.
PG_MAX_CONNECTIONS=300

pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] || return 1
  local major; major="$(basename "$(dirname "$dir")")"
  [ "${major%%.*}" -ge "$PG_MIN_MAJOR" ] || return 1
  printf '%s\n' "$dir"
}

install_postgres() {
  pg_bindir >/dev/null || ensure_apt_packages postgresql postgresql-contrib
  pg_bindir >/dev/null || die "PostgreSQL $PG_MIN_MAJOR+ not found under /usr/lib/postgresql after installing"
  # PostGIS for the geographic searches of the availability service, built for this major.
  local major; major="$(basename "$(dirname "$(pg_bindir)")")"
  [ -f "/usr/share/postgresql/$major/extension/postgis.control" ] \
    || ensure_apt_packages "postgresql-$major-postgis-3"
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

# The service user must reach a cluster's folder; a project under a private home cannot be
# traversed by it, so the folder then lives in /var/tmp with a link from .local.
prepare_cluster_dir() { # folder
  mkdir -p "$LOCAL_DIR"
  [ -e "$1" ] && return 0
  mkdir -p "$1"
  chown "$(service_user)" "$1"
  if ! as_service_user test -w "$1"; then
    rmdir "$1"
    # Named after the folder it stands for: a second cluster (tests', a replica) never shares it.
    local elsewhere="/var/tmp/mandi-postgres-$(printf '%s' "$1" | sha1sum | cut -c1-12)"
    mkdir -p "$elsewhere"; chown "$(service_user)" "$elsewhere"; chmod 700 "$elsewhere"
    ln -s "$elsewhere" "$1"
  fi
}

# Every path the service user is given is the folder's real one, never one through the link.
real_cluster_dir() { # folder
  if [ -e "$1" ]; then readlink -f "$1"; else printf '%s\n' "$1"; fi
}

cluster_runs() { # data folder
  [ -f "$1/PG_VERSION" ] && as_service_user "$(pg_bindir)/pg_ctl" -D "$1" status >/dev/null 2>&1
}

start_cluster() { # what, data folder, log, port
  as_service_user touch "$3"
  as_service_user "$(pg_bindir)/pg_ctl" -D "$2" -l "$3" -w -t 60 start >/dev/null \
    || die "$1 did not start, see $3"
  "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$4" || die "$1 is not accepting connections, see $3"
}

stop_cluster() { # data folder
  cluster_runs "$1" && as_service_user "$(pg_bindir)/pg_ctl" -D "$1" -m fast -w stop >/dev/null
  return 0
}

# Runs SQL as the superuser on the server at a port; prints rows unaligned, one per line.
superuser_sql() { # port, statement
  PGPASSWORD="$(cat "$PG_PASSWORD_FILE")" "$(pg_bindir)/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2"
}
