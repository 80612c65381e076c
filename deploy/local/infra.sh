#!/usr/bin/env bash
# Starts, stops or reports the local infrastructure: PostgreSQL, Apache Kafka, Redis.
# Usage: infra.sh up|down|status [postgres] [kafka] [redis]    (all three when none is named)
# `up` also provisions one database per service and writes .local/infra.env for tests and services.
# With MANDI_PG_REPLICA=1, `up` also starts a streaming replica of PostgreSQL (replica.sh) and
# each service's env file names it for reads; `down` and `status` always include the replica.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ACTION="${1:-}"; shift || true
COMPONENTS=("$@"); [ ${#COMPONENTS[@]} -eq 0 ] && COMPONENTS=(postgres kafka redis)
UV="${UV:-$(command -v uv 2>/dev/null || echo "python3 -m uv")}"

write_infra_env() {
  (umask 077; cat > "$LOCAL_DIR/infra.env" <<ENV
# Written by deploy/local/infra.sh; the admin URLs tests use to make their own databases and topics.
DATABASE_URL=postgresql://postgres:$(cat "$SECRETS_DIR/postgres.password")@127.0.0.1:$MANDI_PG_PORT/postgres
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$MANDI_KAFKA_PORT
REDIS_URL=redis://:$(cat "$SECRETS_DIR/redis.password")@127.0.0.1:$MANDI_REDIS_PORT/0
ENV
)
}

with_postgres() {
  [[ " ${COMPONENTS[*]} " == *" postgres "* ]]
}

provision_service_databases() {
  local reads=()
  # Services read from the replica whenever it runs (started now or by an earlier `up`).
  "$DEPLOY_LOCAL/replica.sh" running && reads=(--read-port "$MANDI_PG_REPLICA_PORT")
  DATABASE_URL="postgresql://postgres:$(cat "$SECRETS_DIR/postgres.password")@127.0.0.1:$MANDI_PG_PORT/postgres" \
    $UV run --no-sync python -m mandi_db.service_databases --services "$DEPLOY_LOCAL/services.txt" \
      --secrets-dir "$SECRETS_DIR" --env-dir "$LOCAL_DIR/env" "${reads[@]}" \
    || die "provisioning the service databases failed"
}

case "$ACTION" in
  up)
    for c in "${COMPONENTS[@]}"; do
      "$DEPLOY_LOCAL/$c.sh" up
      if [ "$c" = postgres ] && [ "$MANDI_PG_REPLICA" = 1 ]; then "$DEPLOY_LOCAL/replica.sh" up; fi
    done
    with_postgres && provision_service_databases
    "$DEPLOY_LOCAL/service_env.sh"
    # An `if`, not `&&`: naming fewer components must not make `up` exit with a failure.
    if [ "${#COMPONENTS[@]}" -eq 3 ]; then write_infra_env; fi
    ;;
  down)
    # The standby first: stopped after its primary, it would only log that the primary went away.
    with_postgres && "$DEPLOY_LOCAL/replica.sh" down
    for c in "${COMPONENTS[@]}"; do "$DEPLOY_LOCAL/$c.sh" down; done
    ;;
  status)
    failed=0
    for c in "${COMPONENTS[@]}"; do "$DEPLOY_LOCAL/$c.sh" status || failed=1; done
    if with_postgres; then "$DEPLOY_LOCAL/replica.sh" status || failed=1; fi
    exit $failed
    ;;
  *) die "usage: $0 up|down|status [postgres] [kafka] [redis]" ;;
esac
