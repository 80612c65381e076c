# Shared helpers for the local infrastructure scripts. Sourced, never run.
# Every failure ends in one line on stderr that says what to do, never a trace.

set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="${MANDI_LOCAL_DIR:-$PROJECT_ROOT/.local}"
SECRETS_DIR="$LOCAL_DIR/secrets"
DEPLOY_LOCAL="$PROJECT_ROOT/deploy/local"

# Ports of our own, away from the usual ones so a developer's own servers do not clash.
MANDI_PG_PORT="${MANDI_PG_PORT:-55432}"
MANDI_PG_REPLICA_PORT="${MANDI_PG_REPLICA_PORT:-55433}"
MANDI_KAFKA_PORT="${MANDI_KAFKA_PORT:-59092}"
MANDI_KAFKA_CONTROLLER_PORT="${MANDI_KAFKA_CONTROLLER_PORT:-59093}"
MANDI_REDIS_PORT="${MANDI_REDIS_PORT:-56379}"
# 1: infra.sh also starts a streaming replica of PostgreSQL for services' reads (replica.sh).
MANDI_PG_REPLICA="${MANDI_PG_REPLICA:-0}"

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_command() { # name, how to get it
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "installing packages needs root or sudo: $*"
  fi
}

# Installs Debian packages that are missing; runs apt-get update at most once per call.
ensure_apt_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  require_command apt-get "this script installs from Debian's packages; install ${missing[*]} by hand"
  say "installing ${missing[*]} from Debian's packages"
  mkdir -p "$LOCAL_DIR"
  local log="$LOCAL_DIR/apt.log"
  as_root apt-get update -qq >"$log" 2>&1 || die "apt-get update failed (is the Debian mirror reachable?), see $log"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 \
    || die "apt-get install ${missing[*]} failed, see $log"
}

port_is_listening() { # port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Who holds a port, for the message when it is not us.
port_holder() { # port
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -n 1 \
      | sed -E 's/users:\(\("([^"]*)",pid=([0-9]*)/\1 (pid \2)/' || true
  fi
}

pid_is_alive() { # pidfile
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Refuses to start when a port is taken by something that is not ours.
require_port_free() { # what, port, env var that moves it
  if port_is_listening "$2"; then
    local holder; holder="$(port_holder "$2")"
    die "port $2 for $1 is taken${holder:+ by $holder}; stop it or set $3 to a free port"
  fi
}

wait_until() { # seconds, description, command...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
  : "$what"
}

# A random secret written once and kept: re-runs reuse it, nothing is baked into code.
ensure_secret() { # file
  mkdir -p "$SECRETS_DIR"; chmod 700 "$SECRETS_DIR"
  if [ ! -s "$1" ]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$1")
  fi
  cat "$1"
}

stop_pidfile() { # what, pidfile, seconds
  pid_is_alive "$2" || { rm -f "$2"; return 0; }
  local pid; pid="$(cat "$2")"
  kill "$pid" 2>/dev/null || true
  wait_until "$3" "$1 to stop" bash -c "! kill -0 $pid 2>/dev/null" || { kill -9 "$pid" 2>/dev/null || true; }
  rm -f "$2"
}
