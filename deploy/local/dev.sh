#!/usr/bin/env bash
# Starts every service that exists under services/ on top of the running infrastructure, then the
# gateway in front of them, seeds the demo tenant and prints how to log in.
# Usage: dev.sh [up|down|status] | dev.sh stop <service>   (`make dev` runs `up`, which also
# starts again a service `stop` stopped)
# A service is migrated (`python -m mandi_<name> migrate`) and started (`... serve`) with its env
# files (.local/env/<name>.env and <name>.service.env); logs go to .local/logs/<name>.log.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UV="${UV:-$(command -v uv 2>/dev/null || echo "python3 -m uv")}"
LOGS="$LOCAL_DIR/logs"
PIDS="$LOCAL_DIR/pids"

# The services that can run: those with an entry point (a service is built domain first).
services() {
  local dir name
  for dir in "$PROJECT_ROOT"/services/*/; do
    name="$(basename "$dir")"
    [ -f "$dir/src/mandi_${name//-/_}/__main__.py" ] && echo "$name"
  done
  return 0
}

DEMO_PASSWORD_FILE="$SECRETS_DIR/demo-admin.password"
DEMO_ADMIN="admin@demo.mandi.example"
GATEWAY_URL="http://127.0.0.1:${MANDI_GATEWAY_PORT:-58080}"

in_service_env() { # name, command... : runs the command with the service's settings
  local name=$1; shift
  ( set -a; source "$LOCAL_DIR/env/$name.env"; source "$LOCAL_DIR/env/$name.service.env"; set +a
    cd "$PROJECT_ROOT" && "$@" )
}

service_port() { # name
  sed -n "s/^MANDI_[A-Z_]*_HTTP_PORT=//p" "$LOCAL_DIR/env/$1.service.env"
}

is_ready() { # port
  curl -fs -o /dev/null "http://127.0.0.1:$1/readyz"
}

start_service() { # name
  local name=$1 pidfile="$PIDS/$1.pid" port
  if pid_is_alive "$pidfile"; then say "$name: running"; return 0; fi
  mkdir -p "$LOGS" "$PIDS"
  in_service_env "$name" $UV run --no-sync python -m "mandi_$name" migrate >>"$LOGS/$name.log" 2>&1 \
    || die "$name: migrating its database failed, see $LOGS/$name.log"
  # exec setsid: the recorded pid leads its own process group, which `down` stops whole.
  ( set -a; source "$LOCAL_DIR/env/$name.env"; source "$LOCAL_DIR/env/$name.service.env"; set +a
    cd "$PROJECT_ROOT" && exec setsid $UV run --no-sync python -m "mandi_$name" serve ) \
    >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  port="$(service_port "$name")"
  wait_until 60 "$name to be ready" is_ready "$port" || die "$name did not become ready, see $LOGS/$name.log"
  say "$name: ready on http://127.0.0.1:$port, log in $LOGS/$name.log"
}

# Stand-ins for external APIs the services call (their URLs are settings; in production they are
# the vendors'): the KYC verifier partners calls, and the credit bureau risk calls. Each shares
# its token with its service through a file service_env.sh generates (secrets.txt names it).
VERIFIER_PORT="${MANDI_FAKE_VERIFIER_PORT:-58190}"
BUREAU_PORT="${MANDI_FAKE_BUREAU_PORT:-58191}"

start_fake() { # name (fake-<name>), its module in mandi_testing, port, token variable, what it is
  local name=$1 module=$2 port=$3 variable=$4 what=$5
  local pidfile="$PIDS/fake-$name.pid" token="$SECRETS_DIR/fake-$name.token"
  if pid_is_alive "$pidfile"; then say "fake $name: running"; return 0; fi
  mkdir -p "$LOGS" "$PIDS"
  [ -s "$token" ] || die "fake $name: $token is missing (deploy/local/service_env.sh makes it)"
  ( export "$variable=$(cat "$token")"; cd "$PROJECT_ROOT" && exec setsid \
      $UV run --no-sync python -m "mandi_testing.$module" --host 127.0.0.1 --port "$port" ) \
    >>"$LOGS/fake-$name.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  wait_until 30 "the fake $name to be ready" curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" \
    || die "the fake $name did not start, see $LOGS/fake-$name.log"
  say "fake $name: ready on http://127.0.0.1:$port ($what)"
}

start_fake_verifier() {
  start_fake verifier fake_verifier "$VERIFIER_PORT" FAKE_VERIFIER_TOKEN "the partners service's KYC API"
}

start_fake_bureau() {
  start_fake bureau fake_bureau "$BUREAU_PORT" FAKE_BUREAU_TOKEN "the risk service's credit bureau"
}

# The demo tenant and its admin, made once with a generated password the developer can read.
seed_demo_tenant() {
  [ -s "$DEMO_PASSWORD_FILE" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=\n' > "$DEMO_PASSWORD_FILE")
  in_service_env auth $UV run --no-sync python -m mandi_auth create-tenant --if-absent \
      --slug demo --name "Demo trade desk" --admin-email "$DEMO_ADMIN" --admin-password-stdin \
      < "$DEMO_PASSWORD_FILE" >>"$LOGS/auth.log" 2>&1 \
    || die "seeding the demo tenant failed, see $LOGS/auth.log"
}

up() {
  local name found=0
  command -v curl >/dev/null 2>&1 || ensure_apt_packages curl  # readiness checks, login example
  start_fake_verifier
  start_fake_bureau
  for name in $(services); do start_service "$name"; found=1; done
  [ $found -eq 1 ] || die "services: none exist yet under services/"
  "$DEPLOY_LOCAL/gateway.sh" up
  seed_demo_tenant
  cat <<INFO

Mandi is up.
  PostgreSQL  127.0.0.1:$MANDI_PG_PORT   one database per service (mandi_<service>), superuser password in $SECRETS_DIR/postgres.password
  Kafka       127.0.0.1:$MANDI_KAFKA_PORT   single-node KRaft, broker log in $LOCAL_DIR/kafka/logs/server.log
  Redis       127.0.0.1:$MANDI_REDIS_PORT   password in $SECRETS_DIR/redis.password
  Service settings (URLs and *_FILE secrets)   $LOCAL_DIR/env/<service>.env
  Admin URLs for tools and tests               $LOCAL_DIR/infra.env
  Gateway     $GATEWAY_URL/api/v1/<service>/...   JSON access log in $LOCAL_DIR/gateway/logs/access.log

Log in to the demo tenant (the admin's password is in $DEMO_PASSWORD_FILE):
  curl -s $GATEWAY_URL/api/v1/auth/login -H 'content-type: application/json' \\
    -d "{\"tenant\":\"demo\",\"email\":\"$DEMO_ADMIN\",\"password\":\"\$(cat $DEMO_PASSWORD_FILE)\"}"
Then call any API with the access token:  -H "authorization: Bearer <access_token>"
Stop everything with: make down
INFO
}

stop_group() { # name, pidfile: SIGTERM to the service's process group, SIGKILL after 15 s
  pid_is_alive "$2" || { rm -f "$2"; return 0; }
  local group; group="$(cat "$2")"
  kill -TERM -- "-$group" 2>/dev/null || true
  wait_until 15 "$1 to stop" bash -c "! kill -0 -- -$group 2>/dev/null" \
    || kill -KILL -- "-$group" 2>/dev/null || true
  rm -f "$2"
  say "$1: stopped"
}

down() {
  local name
  "$DEPLOY_LOCAL/gateway.sh" down
  for name in $(services); do stop_group "$name" "$PIDS/$name.pid"; done
  stop_group "fake verifier" "$PIDS/fake-verifier.pid"
  stop_group "fake bureau" "$PIDS/fake-bureau.pid"
}

stop_one() { # name: one service stopped, as an outage would; `up` starts it again
  # grep -q stops reading at the first match: under pipefail, piping `services` into it could fail.
  local known; known="$(services)"
  grep -qx "$1" <<<"$known" || die "no service $1; the services are: $(echo $known)"
  stop_group "$1" "$PIDS/$1.pid"
}

status() {
  local name
  "$DEPLOY_LOCAL/gateway.sh" status || true
  for name in $(services); do
    if pid_is_alive "$PIDS/$name.pid"; then say "$name: running"; else say "$name: stopped"; fi
  done
}

case "${1:-up}" in
  up|down|status) "${1:-up}" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop <service>"; stop_one "$2" ;;
  *) die "usage: $0 [up|down|status] | $0 stop <service>" ;;
esac
