#!/usr/bin/env bash
# Apache Kafka in single-node KRaft mode, assembled from Maven Central jars (deploy/local/kafka/pom.xml).
# Usage: kafka.sh install|up|down|status
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_DIR="$LOCAL_DIR/kafka"
KAFKA_LIB="$KAFKA_DIR/lib"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_CONFIG="$KAFKA_DIR/server.properties"
POM="$DEPLOY_LOCAL/kafka/pom.xml"
# A 3.x dependency plugin: Maven 3.8 defaults to 2.8, which cannot copy runtime-scoped modules.
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
KAFKA_HEAP="${MANDI_KAFKA_HEAP:-512m}"

pom_digest() { sha256sum "$POM" | cut -d' ' -f1; }

# The jars are copied once per pom version; Maven's own cache (~/.m2) keeps downloads between clones.
install() {
  command -v java >/dev/null 2>&1 || ensure_apt_packages openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || ensure_apt_packages maven
  if [ -f "$KAFKA_LIB/.pom.sha256" ] && [ "$(cat "$KAFKA_LIB/.pom.sha256")" = "$(pom_digest)" ]; then return 0; fi
  say "assembling Apache Kafka from Maven Central into $KAFKA_LIB"
  rm -rf "$KAFKA_LIB"; mkdir -p "$KAFKA_LIB"
  mvn -q -f "$POM" "$DEPENDENCY_PLUGIN:copy-dependencies" -DoutputDirectory="$KAFKA_LIB" >"$KAFKA_DIR/maven.log" 2>&1 \
    || die "Maven could not fetch Kafka's jars, see $KAFKA_DIR/maven.log"
  pom_digest > "$KAFKA_LIB/.pom.sha256"
}

write_config() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  sed -e "s|@PORT@|$MANDI_KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$MANDI_KAFKA_CONTROLLER_PORT|g" \
      -e "s|@DATA_DIR@|$KAFKA_DATA|g" "$DEPLOY_LOCAL/kafka/server.properties.in" > "$KAFKA_CONFIG"
}

kafka_java() { # main class, args...
  java -cp "$KAFKA_LIB/*" -Dlog4j.configuration="file:$DEPLOY_LOCAL/kafka/log4j.properties" \
    -Dkafka.logs.dir="$KAFKA_LOGS" "$@"
}

format_storage() {
  [ -f "$KAFKA_DATA/meta.properties" ] && return 0
  local cluster_id; cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_CONFIG" -g >"$KAFKA_LOGS/format.log" 2>&1 \
    || die "formatting Kafka's storage failed, see $KAFKA_LOGS/format.log"
}

broker_started() {
  port_is_listening "$MANDI_KAFKA_PORT" && grep -q "Kafka Server started" "$KAFKA_LOGS/server.log" 2>/dev/null
}

up() {
  mkdir -p "$KAFKA_DIR"
  install
  if pid_is_alive "$KAFKA_PID"; then say "kafka: running on 127.0.0.1:$MANDI_KAFKA_PORT"; return 0; fi
  require_port_free Kafka "$MANDI_KAFKA_PORT" MANDI_KAFKA_PORT
  require_port_free "Kafka's controller" "$MANDI_KAFKA_CONTROLLER_PORT" MANDI_KAFKA_CONTROLLER_PORT
  write_config
  format_storage
  rm -f "$KAFKA_LOGS/server.log"
  # setsid: the broker outlives the shell that started it, as the other servers do.
  setsid bash -c \
    "exec java -Xms256m -Xmx$KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      -cp '$KAFKA_LIB/*' -Dlog4j.configuration='file:$DEPLOY_LOCAL/kafka/log4j.properties' \
      -Dkafka.logs.dir='$KAFKA_LOGS' kafka.Kafka '$KAFKA_CONFIG'" \
    >"$KAFKA_LOGS/stdout.log" 2>&1 < /dev/null &
  echo $! > "$KAFKA_PID"
  if ! wait_until 90 "Kafka to start" broker_started; then
    pid_is_alive "$KAFKA_PID" || die "Kafka exited while starting, see $KAFKA_LOGS/server.log and $KAFKA_LOGS/stdout.log"
    die "Kafka did not start within 90 s, see $KAFKA_LOGS/server.log"
  fi
  say "kafka: started on 127.0.0.1:$MANDI_KAFKA_PORT"
}

down() {
  stop_pidfile Kafka "$KAFKA_PID" 30
  say "kafka: stopped"
}

status() {
  if pid_is_alive "$KAFKA_PID" && broker_started; then say "kafka: running on 127.0.0.1:$MANDI_KAFKA_PORT (data $KAFKA_DATA)"
  else say "kafka: stopped"; return 1; fi
}

case "${1:-}" in
  install|up|down|status) "$1" ;;
  *) die "usage: $0 install|up|down|status" ;;
esac
