#!/usr/bin/env bash
# Runs the compose stack (compose.yaml) on this machine and tells you where it answers.
#
#   scripts/start-docker.sh [--build]        start (building the image first with --build), wait until /ready
#                                            answers through nginx, print the URL
#   scripts/start-docker.sh --migrate FILE [--dry-run]
#                                            import a legacy posts export (CSV or JSON lines) into the stack
#   scripts/start-docker.sh --logs [SERVICE] follow the logs (of one service)
#   scripts/start-docker.sh --status         services and their health, queue lengths, the URL
#   scripts/start-docker.sh --stop           stop and remove the containers; the volumes (data, backups) stay
#   scripts/start-docker.sh --demo [--build] a demo stack of its own (project DEMO_PROJECT_NAME, vibe-tracker-demo):
#                                            fake upstreams replaying every source's recorded answers, one scrape
#                                            of each, then where to look. No internet or credentials needed.
#   scripts/start-docker.sh --demo --stop    remove the demo stack and its data (--status, --logs work with --demo)
#   scripts/start-docker.sh --help
#
# Needs POSTGRES_PASSWORD in .env: it offers to write a random one (without a terminal it only does so when
# VIBE_ASSUME_YES=y). READY_TIMEOUT (seconds, default 180) bounds the wait for /ready.
# Uses `docker compose` when present, else `docker-compose`; compose.override.yaml is added when it exists.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PROG="start-docker"
# shellcheck source=scripts/docker-common.sh
. "$ROOT/scripts/docker-common.sh"

# The comment block at the top of this file, without its #.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

compose() {
  local files=(-f "$ROOT/compose.yaml")
  [ -f "$ROOT/compose.override.yaml" ] && files+=(-f "$ROOT/compose.override.yaml")
  "${COMPOSE[@]}" --project-directory "$ROOT" "${files[@]}" "$@"
}

# Where nginx's 443 is published, ADDRESS:PORT, as compose reports it (else from HTTPS_PORT, [ADDRESS:]PORT).
https_published() {
  local published
  published=$(compose port nginx 443 2>/dev/null | tail -n 1 || true)
  [ -n "$published" ] || published=$(env_value HTTPS_PORT)
  echo "${published:-443}"
}

# localhost unless the port is bound to one address; the port left out when it is 443.
url() {
  local published port host=localhost
  published=$(https_published)
  port=${published##*:}
  case "$published" in
    *:*) host=${published%:*} ;;
  esac
  case "$host" in
    0.0.0.0|'::'|'[::]'|'') host=localhost ;;
  esac
  if [ "$port" = 443 ]; then echo "https://$host"; else echo "https://$host:$port"; fi
}

# /ready through nginx, from this machine when curl is here, else from inside the nginx container.
ready() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsk -o /dev/null --max-time 5 "$1/ready"
  else
    compose exec -T nginx curl -fsk -o /dev/null --max-time 5 https://127.0.0.1/ready >/dev/null 2>&1
  fi
}

start() {
  local build=$1 timeout=${READY_TIMEOUT:-180}
  ensure_env
  local args=(up -d --remove-orphans)
  [ "$build" = 1 ] && args+=(--build)
  compose "${args[@]}"
  local base
  base=$(url)
  say "waiting for $base/ready to answer through nginx (up to ${timeout}s)"
  local deadline=$((SECONDS + timeout))
  until ready "$base"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      compose ps >&2 || true
      die "the API did not answer /ready through nginx within ${timeout}s: see \`scripts/start-docker.sh --logs api\`"
    fi
    sleep 2
  done
  say "up: $base (the certificate is self-signed unless you provided one)"
  echo "$base"
}

# The demo's fake upstream is the tests' own code (test/helpers/serve-recorded.ts), run by node with tsx from the
# image's deps stage (every dependency), reading test/ mounted read-only, on the demo stack's network as "upstream".
DEMO_UPSTREAM_PORT=8100
demo_upstream_image() { echo "${COMPOSE_PROJECT_NAME}-upstream:latest"; }
demo_upstream_name() { echo "${COMPOSE_PROJECT_NAME}-upstream"; }

# `docker run` of the deps stage with test/ (and scripts/) mounted read-only, as the unprivileged node user.
demo_node() {
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  docker run --user node -w /app -v "$ROOT/test:/app/test:ro" -v "$ROOT/scripts:/app/scripts:ro" "${args[@]}" "$(demo_upstream_image)" node --import tsx "$@"
}

start_demo() {
  local build=$1 line network
  ensure_env
  say "building the demo's fake upstream image (the Dockerfile's deps stage)"
  docker build -q --target deps -t "$(demo_upstream_image)" "$ROOT" >/dev/null
  # Every source's base URL (and the made-up credentials some need) pointed at the fake upstream, for compose.
  while IFS= read -r line; do
    [ -n "$line" ] && export "${line?}"
  done < <(demo_node --rm -- test/helpers/serve-recorded.ts --print-env --public-origin http://upstream --base-port "$DEMO_UPSTREAM_PORT")
  start "$build" >/dev/null
  network=$(docker network ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | head -n 1)
  [ -n "$network" ] || die "the demo stack has no network"
  docker rm -f "$(demo_upstream_name)" >/dev/null 2>&1 || true
  demo_node -d --name "$(demo_upstream_name)" --network "$network" --network-alias upstream -- \
    test/helpers/serve-recorded.ts --host 0.0.0.0 --base-port "$DEMO_UPSTREAM_PORT" --public-origin http://upstream >/dev/null
  local deadline=$((SECONDS + 60))
  until docker logs "$(demo_upstream_name)" 2>/dev/null | grep -q '^ready$'; do
    [ "$SECONDS" -lt "$deadline" ] || { docker logs "$(demo_upstream_name)" >&2; die "the demo's fake upstream did not start"; }
    sleep 1
  done
  say "scraping every source once from its recorded answers"
  demo_node --rm --network "$network" -e "API_TOKEN=$(env_value API_TOKEN)" -- scripts/dev/demo-scrape.ts --api http://api:8000 ||
    die "a demo scrape did not complete (above); the logs: scripts/start-docker.sh --demo --logs worker"
  local base
  base=$(url)
  say "the demo runs at $base (project $COMPOSE_PROJECT_NAME; remove it with: scripts/start-docker.sh --demo --stop). Look:"
  local auth="authorization: Bearer $(env_value API_READ_TOKEN)"
  echo "  curl -k -H '$auth' '$base/posts?limit=5'"
  echo "  curl -k -H '$auth' '$base/posts?source=trustpilot&q=broadband'"
  echo "  curl -k -H '$auth' '$base/sources'"
  echo "$base"
}

stop_demo() {
  docker rm -f "$(demo_upstream_name)" >/dev/null 2>&1 || true
  compose down -v --remove-orphans
  docker rmi "$(demo_upstream_image)" >/dev/null 2>&1 || true
}

import_legacy() {
  [ $# -ge 1 ] || die "--migrate needs the export file: --migrate posts.csv [--dry-run]"
  local file=$1
  shift
  [ -f "$file" ] || die "no such file: $file"
  ensure_env
  local abs name
  abs="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
  name=$(basename "$file")
  # The container sees only what is mounted: the file goes in read-only under /import. It runs as uid 1000, so the
  # file must be readable by others (chmod o+r) when it belongs to another user.
  compose run --rm -v "$abs:/import/$name:ro" api node dist/scripts/import-legacy.js "/import/$name" "$@"
}

status() {
  ensure_env
  compose ps
  local prefix redis_id
  prefix=$(env_value REDIS_PREFIX)
  prefix=${prefix:-vibe}
  [[ "$prefix" =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || die "REDIS_PREFIX must be 1-64 letters, digits, \"_\", \".\" or \"-\", got \"$prefix\""
  redis_id=$(compose ps -q redis 2>/dev/null || true)
  if [ -z "$redis_id" ]; then
    say "redis is not running: no queue figures"
    return 0
  fi
  local figures
  figures=$(compose exec -T redis sh -c "
    printf 'pending %s\n' \"\$(redis-cli LLEN $prefix:jobs:pending)\"
    printf 'processing %s\n' \"\$(redis-cli LLEN $prefix:jobs:processing)\"
    printf 'delayed %s\n' \"\$(redis-cli ZCARD $prefix:jobs:delayed)\"
    printf 'history_to_copy %s\n' \"\$(redis-cli LLEN $prefix:jobs:history)\"
    printf 'worker_heartbeats %s\n' \"\$(redis-cli ZCARD $prefix:workers)\"
    printf 'used_memory %s\n' \"\$(redis-cli INFO memory | sed -n 's/^used_memory_human://p' | tr -d '\r')\"
  ") || { say "could not read the queue from redis"; return 0; }
  echo
  echo "queue ($prefix):"
  printf '  %s\n' "${figures//$'\n'/$'\n'  }"
  echo
  echo "url: $(url)"
}

[ $# -gt 0 ] || set -- --start
build=0
demo=0
action=start
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=1; shift ;;
    --start) shift ;;
    --migrate) action=migrate; shift; args=("$@"); break ;;
    --logs) action=logs; shift; args=("$@"); break ;;
    --status) action=status; shift ;;
    --stop) action=stop; shift ;;
    --demo) demo=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

find_compose
cd "$ROOT"
# The demo is a project of its own: its containers, volumes and data never mix with the real stack's.
[ "$demo" = 1 ] && export COMPOSE_PROJECT_NAME="${DEMO_PROJECT_NAME:-vibe-tracker-demo}"
case "$action" in
  start) if [ "$demo" = 1 ]; then start_demo "$build"; else start "$build"; fi ;;
  migrate)
    [ "$build" = 0 ] || compose build
    import_legacy ${args[@]+"${args[@]}"}
    ;;
  logs) ensure_env; compose logs -f --tail=200 ${args[@]+"${args[@]}"} ;;
  status) status ;;
  stop) ensure_env; if [ "$demo" = 1 ]; then stop_demo; else compose down; fi ;;
esac
