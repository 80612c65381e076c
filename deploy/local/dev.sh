#!/usr/bin/env bash
# Starts every service that exists under services/ on top of the running infrastructure, and
# prints where everything is. Usage: dev.sh [up|down|status]   (`make dev` runs `up`)
# A service is started as `python -m mandi_<name>` with its provisioned env file
# (.local/env/<name>.env); logs go to .local/logs/<name>.log.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UV="${UV:-$(command -v uv 2>/dev/null || echo "python3 -m uv")}"
LOGS="$LOCAL_DIR/logs"
PIDS="$LOCAL_DIR/pids"

services() {
  local dir
  for dir in "$PROJECT_ROOT"/services/*/; do
    [ -f "$dir/pyproject.toml" ] && basename "$dir"
  done
}

start_service() { # name
  local name=$1 pidfile="$PIDS/$1.pid"
  if pid_is_alive "$pidfile"; then say "$name: running"; return 0; fi
  mkdir -p "$LOGS" "$PIDS"
  ( set -a; source "$LOCAL_DIR/env/$name.env"; set +a
    cd "$PROJECT_ROOT" && exec setsid $UV run --no-sync python -m "mandi_$name" ) \
    >"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  say "$name: started, log in $LOGS/$name.log"
}

up() {
  local name found=0
  for name in $(services); do start_service "$name"; found=1; done
  [ $found -eq 1 ] || say "services: none exist yet under services/"
  cat <<INFO

Mandi is up.
  PostgreSQL  127.0.0.1:$MANDI_PG_PORT   one database per service (mandi_<service>), superuser password in $SECRETS_DIR/postgres.password
  Kafka       127.0.0.1:$MANDI_KAFKA_PORT   single-node KRaft, broker log in $LOCAL_DIR/kafka/logs/server.log
  Redis       127.0.0.1:$MANDI_REDIS_PORT   password in $SECRETS_DIR/redis.password
  Service settings (URLs and *_FILE secrets)   $LOCAL_DIR/env/<service>.env
  Admin URLs for tools and tests               $LOCAL_DIR/infra.env
Stop everything with: make down
INFO
}

down() {
  local name
  for name in $(services); do stop_pidfile "$name" "$PIDS/$name.pid" 15; done
}

status() {
  local name
  for name in $(services); do
    if pid_is_alive "$PIDS/$name.pid"; then say "$name: running"; else say "$name: stopped"; fi
  done
}

case "${1:-up}" in
  up|down|status) "${1:-up}" ;;
  *) die "usage: $0 [up|down|status]" ;;
esac
