#!/usr/bin/env bash
# The API gateway: real nginx from Debian's packages, configured from deploy/gateway/.
# Usage: gateway.sh install|render|up|down|status
#   render  writes the configuration under $MANDI_GATEWAY_DIR/conf and checks it with nginx -t
#   up      renders, then starts nginx (or reloads it when it runs)
# Settings (environment): MANDI_GATEWAY_PORT (58080), MANDI_GATEWAY_LISTEN (127.0.0.1),
# MANDI_GATEWAY_DIR (.local/gateway), MANDI_GATEWAY_SECRET_FILE (.local/secrets/gateway.secret),
# MANDI_GATEWAY_PER_IP_RATE / _BURST (per client address, 100/s and 200), MANDI_GATEWAY_MAX_BODY
# (1m), and each service's port as MANDI_<SERVICE>_HTTP_PORT (default: services.txt).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GATEWAY_SOURCE="$PROJECT_ROOT/deploy/gateway"
STATE_DIR="${MANDI_GATEWAY_DIR:-$LOCAL_DIR/gateway}"
CONF_DIR="$STATE_DIR/conf"
PID_FILE="$STATE_DIR/nginx.pid"
PORT="${MANDI_GATEWAY_PORT:-58080}"
LISTEN="${MANDI_GATEWAY_LISTEN:-127.0.0.1}"
SECRET_FILE="${MANDI_GATEWAY_SECRET_FILE:-$SECRETS_DIR/gateway.secret}"
NGINX="$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)"

install() {
  [ -x "$NGINX" ] || ensure_apt_packages nginx-light
  NGINX="$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)"
  [ -x "$NGINX" ] || die "nginx is not installed and apt-get did not install it"
}

# The services routed: those listed in services.txt that exist and can run (have an entry point).
routed_services() { # prints "name port" lines
  local name port variable
  while read -r name port _; do
    [ -f "$PROJECT_ROOT/services/$name/src/mandi_${name//-/_}/__main__.py" ] || continue
    variable="MANDI_$(printf '%s' "$name" | tr '[:lower:]-' '[:upper:]_')_HTTP_PORT"
    printf '%s %s\n' "$name" "${!variable:-$port}"
  done < <(grep -v '^#' "$DEPLOY_LOCAL/services.txt" | grep -v '^\s*$')
}

fill_placeholders() { # source file, target file
  local user_directive=""
  # As root, nginx's workers would otherwise run as a user that cannot write our temp files.
  [ "$(id -u)" -eq 0 ] && user_directive="user nobody nogroup;"
  sed -e "s#@USER_DIRECTIVE@#$user_directive#" \
      -e "s#@STATE_DIR@#$STATE_DIR#g" -e "s#@CONF_DIR@#$CONF_DIR#g" \
      -e "s#@LISTEN@#$LISTEN#g" -e "s#@PORT@#$PORT#g" \
      -e "s#@PER_IP_RATE@#${MANDI_GATEWAY_PER_IP_RATE:-100}#g" \
      -e "s#@PER_IP_BURST@#${MANDI_GATEWAY_PER_IP_BURST:-200}#g" \
      -e "s#@MAX_BODY@#${MANDI_GATEWAY_MAX_BODY:-1m}#g" "$1" > "$2"
}

write_services() {
  local name port
  : > "$CONF_DIR/upstreams.conf"; : > "$CONF_DIR/service_routes.conf"
  while read -r name port _; do
    cat >> "$CONF_DIR/upstreams.conf" <<CONF
upstream mandi_$name {
    server 127.0.0.1:$port max_fails=0;
    keepalive 64;
}
CONF
    # The collection itself too: without the exact location nginx would answer a POST to
    # /api/v1/<name> with a redirect to /api/v1/<name>/. Each route tells auth which service it
    # targets and the normalised path it matched (the auth subrequest sees these variables).
    cat >> "$CONF_DIR/service_routes.conf" <<CONF
location = /api/v1/$name {
    set \$mandi_service $name;
    set \$mandi_path \$uri;
    include $CONF_DIR/authenticated.conf;
    proxy_pass http://mandi_$name/;
}
location /api/v1/$name/ {
    set \$mandi_service $name;
    set \$mandi_path \$uri;
    include $CONF_DIR/authenticated.conf;
    proxy_pass http://mandi_$name/;
}
CONF
  done < <(routed_services)
  grep -q '^upstream mandi_auth ' "$CONF_DIR/upstreams.conf" || die "services/auth is missing: the gateway cannot authorize without it"
}

# One error_page and one named location per line of problems.txt.
write_problems() {
  local status slug title detail
  : > "$CONF_DIR/problems.conf"
  while IFS='|' read -r status slug title detail; do
    cat >> "$CONF_DIR/problems.conf" <<CONF
error_page $status = @problem_$status;
location @problem_$status {
$(problem_headers "$status")
    default_type application/problem+json;
    return $(answered_status "$status") '$(problem_body "$status" "$slug" "$title" "$detail")';
}
CONF
  done < <(grep -v '^#' "$GATEWAY_SOURCE/problems.txt" | grep -v '^\s*$')
  write_unauthorized
  write_forbidden
  write_too_many_requests
}

# Headers an answer of this status must carry: a 503 says when to retry; a 405 (nginx refuses
# TRACE and CONNECT before routing) lists the methods the gateway passes on.
problem_headers() { # status
  local lines=""
  case "$(answered_status "$1")" in
    503) lines="    add_header Retry-After 2 always;" ;;
    405) lines="    add_header Allow 'GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE' always;" ;;
  esac
  [ -n "$lines" ] && printf '    include %s/response_headers.conf;\n%s\n' "$CONF_DIR" "$lines"
}

answered_status() { # the status nginx made; a 494 is a 400 and a failed dependency a 503 to clients
  case "$1" in 494) echo 400 ;; 500) echo 503 ;; *) echo "$1" ;; esac
}

problem_body() { # status, slug, title, detail, [extra members]
  local status; status="$(answered_status "$1")"
  printf '{"type":"urn:mandi:problem:%s","title":"%s","status":%s,"detail":"%s","instance":"urn:mandi:request:$mandi_request_id","correlation_id":"$mandi_request_id"%s}' \
    "$2" "$3" "$status" "$4" "${5:-}"
}

# The auth service's reason code, for clients that branch on it.
REFUSAL_CODE=',"code":"$auth_reason"'

write_unauthorized() {
  cat >> "$CONF_DIR/problems.conf" <<CONF
error_page 401 = @problem_401;
location @problem_401 {
    include $CONF_DIR/response_headers.conf;
    add_header WWW-Authenticate 'Bearer realm="mandi"' always;
    default_type application/problem+json;
    return 401 '$(problem_body 401 not-authenticated "Not authenticated" '$auth_refusal_detail' "$REFUSAL_CODE")';
}
CONF
}

# A 403 from auth_request is a missing scope, or a rate-limit or quota verdict: the latter are 429s.
write_forbidden() {
  cat >> "$CONF_DIR/problems.conf" <<CONF
error_page 403 = @problem_403;
location @problem_403 {
    include $CONF_DIR/response_headers.conf;
    add_header Retry-After \$auth_retry_after always;
    add_header RateLimit-Limit \$auth_ratelimit_limit always;
    add_header RateLimit-Remaining \$auth_ratelimit_remaining always;
    add_header RateLimit-Reset \$auth_ratelimit_reset always;
    default_type application/problem+json;
    if (\$auth_refused_for_limit) {
        return 429 '$(problem_body 429 rate-limited "Too many requests" '$auth_refusal_detail' "$REFUSAL_CODE")';
    }
    return 403 '$(problem_body 403 permission-denied "Permission denied" '$auth_refusal_detail' "$REFUSAL_CODE")';
}
CONF
}

# nginx's own per-address limit.
write_too_many_requests() {
  cat >> "$CONF_DIR/problems.conf" <<CONF
error_page 429 = @problem_429;
location @problem_429 {
    include $CONF_DIR/response_headers.conf;
    add_header Retry-After 1 always;
    default_type application/problem+json;
    return 429 '$(problem_body 429 rate-limited "Too many requests" "Too many requests from this address; retry after Retry-After seconds.")';
}
CONF
}

write_secret() {
  [ -s "$SECRET_FILE" ] || ensure_secret "$SECRET_FILE" >/dev/null
  (umask 077; printf 'map "" $mandi_gateway_secret {\n    default "%s";\n}\n' "$(cat "$SECRET_FILE")" > "$CONF_DIR/secret.conf")
}

render() {
  install
  mkdir -p "$CONF_DIR" "$STATE_DIR/logs" "$STATE_DIR"/temp/{body,proxy,fastcgi,uwsgi,scgi}
  chmod 700 "$CONF_DIR"
  [ "$(id -u)" -eq 0 ] && chown -R nobody:nogroup "$STATE_DIR/temp"
  local file
  for file in "$GATEWAY_SOURCE"/*.conf; do fill_placeholders "$file" "$CONF_DIR/$(basename "$file")"; done
  write_services
  write_problems
  write_secret
  "$NGINX" -t -q -c "$CONF_DIR/nginx.conf" -e "$STATE_DIR/logs/error.log" 2>"$STATE_DIR/logs/check.log" \
    || die "the gateway's nginx configuration is invalid: $(tail -n 3 "$STATE_DIR/logs/check.log" | tr '\n' ' ')"
}

up() {
  render
  if pid_is_alive "$PID_FILE"; then
    "$NGINX" -c "$CONF_DIR/nginx.conf" -e "$STATE_DIR/logs/error.log" -s reload
    say "gateway: reloaded on http://$LISTEN:$PORT"; return 0
  fi
  require_port_free "the gateway" "$PORT" MANDI_GATEWAY_PORT
  "$NGINX" -c "$CONF_DIR/nginx.conf" -e "$STATE_DIR/logs/error.log" \
    || die "nginx did not start, see $STATE_DIR/logs/error.log"
  wait_until 10 "nginx to listen" port_is_listening "$PORT" || die "nginx does not listen on $PORT, see $STATE_DIR/logs/error.log"
  say "gateway: started on http://$LISTEN:$PORT (access log $STATE_DIR/logs/access.log)"
}

down() {
  stop_pidfile "the gateway" "$PID_FILE" 10
  say "gateway: stopped"
}

status() {
  if pid_is_alive "$PID_FILE"; then say "gateway: running on http://$LISTEN:$PORT"
  else say "gateway: stopped"; return 1; fi
}

case "${1:-}" in
  install|render|up|down|status) "$1" ;;
  *) die "usage: $0 install|render|up|down|status" ;;
esac
