#!/usr/bin/env bash
# Redis from Debian's packages, on our own port with a generated password, data under .local/redis.
# Usage: redis.sh install|up|down|status
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_DIR="$LOCAL_DIR/redis"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_CONFIG="$REDIS_DIR/redis.conf"
REDIS_PASSWORD_FILE="$SECRETS_DIR/redis.password"

install() {
  command -v redis-server >/dev/null 2>&1 || ensure_apt_packages redis-server
}

# The password lives in a 0600 config file, not on the command line where ps would show it.
write_config() {
  mkdir -p "$REDIS_DIR"
  local password; password="$(ensure_secret "$REDIS_PASSWORD_FILE")"
  (umask 077; cat > "$REDIS_CONFIG" <<CONF
bind 127.0.0.1
port $MANDI_REDIS_PORT
dir $REDIS_DIR
pidfile $REDIS_PID
logfile $REDIS_DIR/redis.log
daemonize yes
requirepass $password
# Rate-limit and cache state only: no snapshots to fork for.
save ""
appendonly no
CONF
)
}

ping() {
  redis-cli -h 127.0.0.1 -p "$MANDI_REDIS_PORT" --no-auth-warning -a "$(cat "$REDIS_PASSWORD_FILE")" ping 2>/dev/null | grep -q PONG
}

up() {
  install
  if pid_is_alive "$REDIS_PID"; then say "redis: running on 127.0.0.1:$MANDI_REDIS_PORT"; return 0; fi
  require_port_free Redis "$MANDI_REDIS_PORT" MANDI_REDIS_PORT
  write_config
  redis-server "$REDIS_CONFIG" || die "Redis did not start, see $REDIS_DIR/redis.log"
  wait_until 20 "Redis to answer" ping || die "Redis does not answer, see $REDIS_DIR/redis.log"
  say "redis: started on 127.0.0.1:$MANDI_REDIS_PORT"
}

down() {
  stop_pidfile Redis "$REDIS_PID" 10
  say "redis: stopped"
}

status() {
  if pid_is_alive "$REDIS_PID" && ping; then say "redis: running on 127.0.0.1:$MANDI_REDIS_PORT"
  else say "redis: stopped"; return 1; fi
}

case "${1:-}" in
  install|up|down|status) "$1" ;;
  *) die "usage: $0 install|up|down|status" ;;
esac
