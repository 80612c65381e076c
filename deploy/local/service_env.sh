#!/usr/bin/env bash
# Writes .local/env/<service>.service.env for every service in services.txt: where the
# infrastructure is (ports may be moved) and where each of its secrets lives (secrets.txt),
# generating a secret the first time it is needed. Usage: service_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

generate() { # kind
  case "$1" in
    token) head -c 32 /dev/urandom | base64 | tr -d '/+=\n' ;;
    key32) head -c 32 /dev/urandom | base64 | tr -d '\n' ;;
    keyring) printf 'k1:%s' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')" ;;
    *) die "unknown secret kind $1 in secrets.txt" ;;
  esac
}

ensure_generated() { # file, kind
  [ -s "$1" ] && return 0
  (umask 077; generate "$2" > "$1")
}

write_service_env() { # service, port
  local service=$1 port=$2 prefix; prefix="MANDI_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_"
  local env="$LOCAL_DIR/env/$service.service.env"
  {
    echo "${prefix}HTTP_PORT=$port"
    echo "${prefix}KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$MANDI_KAFKA_PORT"
    echo "${prefix}REDIS_URL=redis://127.0.0.1:$MANDI_REDIS_PORT/0"
    echo "${prefix}REDIS_PASSWORD_FILE=$SECRETS_DIR/redis.password"
    # partners calls a KYC verifier, risk a credit bureau; locally those are the fakes dev.sh starts.
    [ "$service" = partners ] && echo "${prefix}VERIFIER_URL=http://127.0.0.1:${MANDI_FAKE_VERIFIER_PORT:-58190}"
    [ "$service" = risk ] && echo "${prefix}BUREAU_URL=http://127.0.0.1:${MANDI_FAKE_BUREAU_PORT:-58191}"
    # audit keeps each tenant's newest signed checkpoint outside its database, in this file.
    [ "$service" = audit ] && echo "${prefix}CHECKPOINT_FILE=$LOCAL_DIR/audit/checkpoints.json"
    local svc setting kind file
    while read -r svc setting kind file; do
      [ "$svc" = "$service" ] || continue
      ensure_generated "$SECRETS_DIR/$file" "$kind"
      echo "${prefix}${setting}_FILE=$SECRETS_DIR/$file"
    done < <(grep -v '^#' "$DEPLOY_LOCAL/secrets.txt" | grep -v '^\s*$')
  } > "$env"
  chmod 600 "$env"
}

mkdir -p "$LOCAL_DIR/env" "$SECRETS_DIR"
while read -r service port _; do
  write_service_env "$service" "$port"
done < <(grep -v '^#' "$DEPLOY_LOCAL/services.txt" | grep -v '^\s*$')
