#!/usr/bin/env bash
# PostgreSQL and Redis in containers, published on 127.0.0.1, for `npm run dev` on this machine.
#
#   scripts/dev-docker.sh --postgres   start them and print the DATABASE_URL and REDIS_URL to use
#   scripts/dev-docker.sh --logs       follow their logs
#   scripts/dev-docker.sh --stop       stop and remove them; their volumes (the data) stay
#   scripts/dev-docker.sh --help
#
# Runs as its own compose project (DEV_PROJECT_NAME, default vibe-tracker-dev) with compose.dev.yaml on top of
# compose.yaml, so a full stack on the same machine and its data are left alone. DEV_POSTGRES_PORT (5432) and
# DEV_REDIS_PORT (6379) move the published ports when a local server already holds them.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PROG="dev-docker"
# shellcheck source=scripts/docker-common.sh
. "$ROOT/scripts/docker-common.sh"

# The comment block at the top of this file, without its #.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

compose() {
  "${COMPOSE[@]}" --project-directory "$ROOT" -p "${DEV_PROJECT_NAME:-vibe-tracker-dev}" \
    -f "$ROOT/compose.yaml" -f "$ROOT/compose.dev.yaml" "$@"
}

healthy() {
  local id
  id=$(compose ps -q "$1" 2>/dev/null) || return 1
  [ -n "$id" ] && [ "$(docker inspect --format '{{.State.Health.Status}}' "$id" 2>/dev/null)" = healthy ]
}

start() {
  ensure_env
  compose up -d postgres redis
  local deadline=$((SECONDS + ${READY_TIMEOUT:-90}))
  until healthy postgres && healthy redis; do
    [ "$SECONDS" -lt "$deadline" ] || { compose ps >&2; die "postgres and redis did not become healthy; their logs: scripts/dev-docker.sh --logs"; }
    sleep 1
  done
  local user db
  user=$(env_value POSTGRES_USER)
  db=$(env_value POSTGRES_DB)
  say "postgres and redis are up. For npm run dev (then npm run migrate once):"
  echo "export DATABASE_URL=postgres://${user:-vibe}:$(env_value POSTGRES_PASSWORD)@$(published postgres 5432)/${db:-ocft_tracker}"
  echo "export REDIS_URL=redis://:$(env_value REDIS_PASSWORD)@$(published redis 6379)/0"
}

# ADDRESS:PORT where SERVICE's PORT is published, as compose reports it: DEV_POSTGRES_PORT and DEV_REDIS_PORT may be
# set in the shell or in .env, and compose reads both.
published() {
  local address
  address=$(compose port "$1" "$2" 2>/dev/null | tail -n 1)
  [ -n "$address" ] || die "compose reports no published port for $1:$2 (see: scripts/dev-docker.sh --logs)"
  echo "$address"
}

case "${1:-}" in
  --postgres) find_compose; start ;;
  --logs) find_compose; ensure_env; compose logs -f --tail=200 postgres redis ;;
  --stop) find_compose; ensure_env; compose down ;;
  -h|--help) usage ;;
  '') usage; exit 1 ;;
  *) die "unknown option $1 (see --help)" ;;
esac
