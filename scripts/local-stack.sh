#!/usr/bin/env bash
# The compose stack as local processes, without Docker: migrate, the API (WORKERS processes on one port), worker
# processes, the scheduler, and Debian's nginx in front with the same server template compose uses. For tests, and
# for running the whole thing where Docker is not available. Redis and PostgreSQL must already answer.
#
#   scripts/local-stack.sh start [--dir DIR] [--dev]   start, wait until /ready answers through nginx, print
#                                                      URL=… lines on stdout and exit, leaving the stack running
#   scripts/local-stack.sh stop [--dir DIR]            stop exactly the processes `start` recorded in DIR/pids
#   scripts/local-stack.sh status [--dir DIR]          what runs, and where
#
# --dev runs the TypeScript sources through tsx; without it the stack runs dist/ (`npm run build` first).
# DIR (default /tmp/vibe-local-stack-$UID) receives pids, stack.env, logs/, the rendered nginx config and the TLS
# certificate (tls/tls.crt: trust it instead of turning verification off).
#
# Settings, from the environment (everything else, SOURCE_BASE_URL_*, …, reaches the app processes as it is):
#   DATABASE_URL postgres://localhost:5432/vibe_local_stack, REDIS_PREFIX vibe-local
#                                     its own database and queue: a `npm run dev` on the same machine shares neither
#   HTTP_PORT 8080, HTTPS_PORT 8443   where nginx listens, on LISTEN_HOST (127.0.0.1)
#   API_PORT 8000                     where the API listens, on 127.0.0.1 only
#   WORKERS 2                         API processes (node:cluster)
#   WORKERS_COUNT 2                   worker processes
#   BACKUP_DIR DIR/backups            where backup jobs write
#   READY_TIMEOUT 60, STOP_TIMEOUT 40 seconds to wait for /ready, and for processes to drain on stop
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PROG="local-stack"

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "$*"; exit 1; }
# The comment block at the top of this file, without its #.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

dir="/tmp/vibe-local-stack-$(id -u)"
dev=0
# As in lib/worker/node-flags.ts.
WORKER_NODE_FLAGS=(--max-semi-space-size=2)

# The processes this script started, and only those: DIR/pids holds one line per process, "<pid> <name> <start
# time>". The start time (field 22 of /proc/<pid>/stat) tells our process from an unrelated one that got the same pid
# after ours ended, so `stop` never signals a stranger.

start_time() {
  local stat rest
  read -r stat 2>/dev/null <"/proc/$1/stat" || { echo -; return; }
  rest=${stat##*) }
  # shellcheck disable=SC2086
  set -- $rest
  echo "${20}"
}

# Alive and still the process recorded: not gone, not a zombie waiting for its parent, same start time.
is_ours() {
  local pid=$1 started=$2 stat
  kill -0 "$pid" 2>/dev/null || return 1
  [ -d /proc/self ] || return 0
  read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] || return 1
  [ "$started" = - ] || [ "$(start_time "$pid")" = "$started" ]
}

# Children, grandchildren, …: the API's cluster processes and nginx's workers, found from the pids we started.
descendants() {
  local child
  for child in $(children_of "$1"); do
    echo "$child"
    descendants "$child"
  done
}

children_of() {
  local parent=$1 file stat pid
  if [ -d /proc/self ]; then
    for file in /proc/[0-9]*/stat; do
      read -r stat 2>/dev/null <"$file" || continue
      pid=${stat%% *}
      stat=${stat##*) }
      # shellcheck disable=SC2086
      set -- $stat
      [ "${2:-}" = "$parent" ] && echo "$pid"
    done
    return 0
  fi
  ps -eo pid=,ppid= | awk -v p="$parent" '$2 == p { print $1 }'
}

launch() {
  local name=$1
  shift
  "$@" </dev/null >>"$dir/logs/$name.log" 2>&1 &
  local pid=$!
  printf '%s %s %s\n' "$pid" "$name" "$(start_time "$pid")" >>"$dir/pids"
}

running_entries() {
  [ -f "$dir/pids" ] || return 0
  local pid name started
  while read -r pid name started; do
    is_ours "$pid" "$started" && printf '%s %s %s\n' "$pid" "$name" "$started"
  done <"$dir/pids"
  return 0
}

stop_stack() {
  local timeout=${STOP_TIMEOUT:-40} entries extra=() pid name started child
  [ -f "$dir/pids" ] || { say "nothing recorded in $dir/pids: nothing to stop"; return 0; }
  entries=$(running_entries)
  while read -r pid name started; do
    [ -n "$pid" ] || continue
    for child in $(descendants "$pid"); do extra+=("$child $(start_time "$child")"); done
  done <<<"$entries"
  local count
  count=$(grep -c . <<<"$entries" || true)
  # First SIGTERM only to the processes we started: each stops its own children (the API primary its cluster
  # processes, nginx its workers) and workers drain their jobs for up to WORKER_SHUTDOWN_TIMEOUT_MS.
  while read -r pid name started; do
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done <<<"$entries"
  local deadline=$((SECONDS + timeout)) left
  while :; do
    left=0
    while read -r pid name started; do
      [ -n "$pid" ] && is_ours "$pid" "$started" && left=$((left + 1))
    done <<<"$entries"
    for child in ${extra[@]+"${extra[@]}"}; do
      # shellcheck disable=SC2086
      is_ours $child && left=$((left + 1))
    done
    [ "$left" = 0 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "$left process(es) still running after ${timeout}s: SIGKILL"
      while read -r pid name started; do
        [ -n "$pid" ] && is_ours "$pid" "$started" && kill -KILL "$pid" 2>/dev/null
      done <<<"$entries"
      for child in ${extra[@]+"${extra[@]}"}; do
        # shellcheck disable=SC2086
        set -- $child
        is_ours "$1" "$2" && kill -KILL "$1" 2>/dev/null
      done
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  mv -f "$dir/pids" "$dir/pids.stopped"
  say "stopped $count process(es) in $dir"
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (Debian: apt-get install $2)"
}

port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The stack's own database unless DATABASE_URL names another (npm run dev uses ocft_tracker).
database_url=${DATABASE_URL:-postgres://localhost:5432/vibe_local_stack}
redis_url=${REDIS_URL:-redis://localhost:6379/0}

wait_for_services() {
  local i
  if command -v redis-cli >/dev/null; then
    for i in $(seq 1 20); do
      [ "$(redis-cli -u "$redis_url" ping 2>/dev/null)" = PONG ] && break
      [ "$i" = 20 ] && die "Redis does not answer at ${redis_url#*@} (start it: redis-server --daemonize yes)"
      sleep 0.5
    done
  fi
  if command -v pg_isready >/dev/null; then
    for i in $(seq 1 20); do
      pg_isready -q -t 2 -d "$database_url" && break
      [ "$i" = 20 ] && die "PostgreSQL does not answer for ${database_url#*@} (start it: pg_ctlcluster 15 main start)"
      sleep 0.5
    done
  fi
}

render_nginx() {
  local nginx_dir="$dir/nginx" user_line=""
  mkdir -p "$nginx_dir/conf.d" "$nginx_dir/temp"
  # As root, nginx's workers would switch to "nobody", who cannot write the temp directories inside DIR.
  [ "$(id -u)" = 0 ] && user_line="user root;"
  # shellcheck disable=SC2016 # envsubst takes the names it may replace, literally
  (
    export VIBE_UPSTREAM="127.0.0.1:$API_PORT" VIBE_RESOLVER=127.0.0.1 VIBE_HTTP_LISTEN="$LISTEN_HOST:$HTTP_PORT" \
      VIBE_HTTPS_LISTEN="$LISTEN_HOST:$HTTPS_PORT" VIBE_PUBLIC_HTTPS_PORT="$HTTPS_PORT" VIBE_TLS_DIR="$dir/tls" \
      VIBE_ACCESS_LOG="$dir/logs/nginx-access.log"
    envsubst '${VIBE_UPSTREAM} ${VIBE_RESOLVER} ${VIBE_HTTP_LISTEN} ${VIBE_HTTPS_LISTEN} ${VIBE_PUBLIC_HTTPS_PORT} ${VIBE_TLS_DIR} ${VIBE_ACCESS_LOG}' \
      <"$ROOT/nginx/templates/default.conf.template" >"$nginx_dir/conf.d/default.conf"
    export VIBE_STACK_NGINX_DIR="$nginx_dir" VIBE_STACK_LOG_DIR="$dir/logs" VIBE_NGINX_USER="$user_line"
    envsubst '${VIBE_STACK_NGINX_DIR} ${VIBE_STACK_LOG_DIR} ${VIBE_NGINX_USER}' \
      <"$ROOT/nginx/local/nginx.conf.template" >"$nginx_dir/nginx.conf"
  )
  local out
  out=$("$NGINX" -t -q -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -e "$dir/logs/nginx-error.log" 2>&1) ||
    die "nginx refuses the rendered configuration $nginx_dir/nginx.conf: $out"
}

ready() {
  NODE_EXTRA_CA_CERTS="$dir/tls/tls.crt" node -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
      .then((res) => process.exit(res.status === 200 ? 0 : 1), () => process.exit(1));
  ' "https://127.0.0.1:$HTTPS_PORT/ready" 2>/dev/null
}

# A process that died while we waited: show why, stop the others, fail.
check_alive() {
  local pid name started
  while read -r pid name started; do
    if ! is_ours "$pid" "$started"; then
      say "$name (pid $pid) exited; the end of $dir/logs/$name.log:"
      tail -n 20 "$dir/logs/$name.log" >&2 || true
      stop_stack
      exit 1
    fi
  done <"$dir/pids"
}

start_stack() {
  HTTP_PORT=${HTTP_PORT:-8080}
  HTTPS_PORT=${HTTPS_PORT:-8443}
  API_PORT=${API_PORT:-8000}
  LISTEN_HOST=${LISTEN_HOST:-127.0.0.1}
  local workers_count=${WORKERS_COUNT:-2} ready_timeout=${READY_TIMEOUT:-60}

  need node nodejs
  need envsubst gettext-base
  need openssl openssl
  NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
  [ -x "$NGINX" ] || die "nginx is not installed (Debian: apt-get install nginx); only its binary is used, the service need not run"

  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  [ -z "$(running_entries)" ] || die "a stack started from $dir is still running: scripts/local-stack.sh stop --dir $dir"

  cd "$ROOT"
  local run=(node)
  local ext=js prefix=dist/
  if [ "$dev" = 1 ]; then
    run=(node --import tsx)
    ext=ts
    prefix=
  else
    [ -f dist/api.js ] || die "dist/ is missing: run \`npm run build\` first, or start with --dev to run the sources"
    if [ -n "$(find api.ts worker.ts scheduler.ts lib scripts sql -newer dist/api.js -type f \( -name '*.ts' -o -name '*.sql' -o -name '*.lua' \) -print -quit 2>/dev/null)" ]; then
      say "warning: sources changed since dist/ was built; \`npm run build\` to run them"
    fi
  fi

  local port
  for port in "$API_PORT" "$HTTP_PORT" "$HTTPS_PORT"; do
    port_taken "$port" && die "port $port is already in use on 127.0.0.1 (set API_PORT, HTTP_PORT, HTTPS_PORT)"
  done
  wait_for_services

  rm -rf "$dir/logs" "$dir/nginx"
  rm -f "$dir/pids" "$dir/pids.stopped" "$dir/stack.env"
  mkdir -p "$dir/logs"
  : >"$dir/pids"

  export HOST=127.0.0.1 PORT="$API_PORT" WORKERS="${WORKERS:-2}" BACKUP_DIR="${BACKUP_DIR:-$dir/backups}"
  export ENVIRONMENT="${ENVIRONMENT:-local}"
  # A queue and a database of its own, so a `npm run dev` worker on the same machine never takes its jobs.
  export DATABASE_URL="$database_url" REDIS_URL="$redis_url" REDIS_PREFIX="${REDIS_PREFIX:-vibe-local}"
  mkdir -p "$BACKUP_DIR"

  sh "$ROOT/nginx/ensure-cert.sh" "$dir/tls" >&2
  render_nginx

  say "migrating"
  "${run[@]}" "${prefix}scripts/migrate.$ext" </dev/null >"$dir/logs/migrate.log" 2>&1 || {
    tail -n 20 "$dir/logs/migrate.log" >&2
    die "migrate failed (log: $dir/logs/migrate.log)"
  }

  launch api "${run[@]}" "${prefix}api.$ext"
  local i
  for i in $(seq 1 "$workers_count"); do
    launch "worker-$i" "${run[@]}" "${WORKER_NODE_FLAGS[@]}" "${prefix}worker.$ext"
  done
  launch scheduler "${run[@]}" "${prefix}scheduler.$ext"
  launch nginx "$NGINX" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/logs/nginx-error.log"
  say "started api (WORKERS=$WORKERS), $workers_count worker(s), scheduler and nginx; waiting for /ready through nginx"

  local deadline=$((SECONDS + ready_timeout))
  until ready; do
    check_alive
    [ "$SECONDS" -lt "$deadline" ] || {
      say "/ready did not answer 200 through nginx within ${ready_timeout}s (logs in $dir/logs)"
      stop_stack
      exit 1
    }
    sleep 0.25
  done

  local host=$LISTEN_HOST
  [ "$host" = 0.0.0.0 ] && host=127.0.0.1
  {
    echo "URL=https://$host:$HTTPS_PORT"
    echo "HTTP_URL=http://$host:$HTTP_PORT"
    echo "API_URL=http://127.0.0.1:$API_PORT"
    echo "CA_CERT=$dir/tls/tls.crt"
    echo "BACKUP_DIR=$BACKUP_DIR"
    echo "DIR=$dir"
  } | tee "$dir/stack.env"
  say "ready: https://$host:$HTTPS_PORT (stop with: scripts/local-stack.sh stop --dir $dir)"
}

status_stack() {
  [ -f "$dir/pids" ] || { say "no stack running from $dir"; return 0; }
  [ -f "$dir/stack.env" ] && cat "$dir/stack.env"
  local pid name started
  while read -r pid name started; do
    if is_ours "$pid" "$started"; then echo "$name pid $pid running"; else echo "$name pid $pid gone"; fi
  done <"$dir/pids"
}

command=${1:-}
[ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || die "--dir needs a directory"; dir=$2; shift 2 ;;
    --dev) dev=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) dir=$1; shift ;;
  esac
done

case "$command" in
  start) start_stack ;;
  stop) stop_stack ;;
  status) status_stack ;;
  -h|--help|help) usage ;;
  '') usage; exit 1 ;;
  *) die "unknown command $command (start, stop, status; see --help)" ;;
esac
