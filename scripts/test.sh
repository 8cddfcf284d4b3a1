#!/usr/bin/env bash
# npm run test:all: the whole suite on a machine that may have nothing but Node. What the suite needs and this
# machine lacks is installed and started first: Redis and PostgreSQL (answering on 127.0.0.1:6379 and :5432, with
# a role for this user), nginx, gettext-base (envsubst), openssl, curl, jq, pg_dump, Chromium, Docker Compose and a
# running Docker engine. On Debian/Ubuntu that is done with apt-get (as root, or through sudo without a password); elsewhere it
# stops at once with the list of what to install. Then `npm ci` when node_modules is missing or older than
# package-lock.json, and `npm test` (preflight, type-check, node:test), which is all a machine that has them needs.
#
#   scripts/test.sh [--check]     --check: only say what is missing, change nothing (exit 1 when something is)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test:all: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

check_only=0
case "${1:-}" in
  --check) check_only=1 ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  '') ;;
  *) die "unknown option $1 (see --help)" ;;
esac

have() { command -v "$1" >/dev/null 2>&1; }
redis_up() { have redis-cli && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
postgres_up() { have pg_isready && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
engine_up() { have docker && timeout 20 docker info >/dev/null 2>&1; }
compose_found() { { have docker && docker compose version >/dev/null 2>&1; } || have docker-compose; }
pg_server_found() { have pg_ctlcluster || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || have initdb; }

# Debian package -> why, for each thing missing.
declare -A missing=()
have redis-server || missing[redis-server]="Redis server (the tests start their own too)"
have redis-cli || missing[redis-tools]="redis-cli"
pg_server_found || postgres_up || missing[postgresql]="PostgreSQL server"
{ have pg_dump && have pg_restore && have pg_isready; } || missing[postgresql-client]="pg_dump, pg_restore, pg_isready"
have nginx || [ -x /usr/sbin/nginx ] || missing[nginx]="nginx (its binary only)"
have envsubst || missing[gettext-base]="envsubst"
have openssl || missing[openssl]="openssl"
have curl || missing[curl]="curl (scripts/start-docker.sh, the documentation's examples)"
have jq || missing[jq]="jq (the documentation's examples)"
compose_found || missing[docker-compose]="Docker Compose"
engine_up || have dockerd || missing[docker.io]="the Docker engine"
# The dashboard's browser test drives Debian's Chromium through playwright-core, which never downloads a browser.
[ -x /usr/bin/chromium ] || missing[chromium]="Chromium (the dashboard's browser test)"

debian=0
if [ -f /etc/os-release ] && have apt-get; then
  # shellcheck disable=SC1091
  . /etc/os-release
  case " ${ID:-} ${ID_LIKE:-} " in *" debian "*|*" ubuntu "*) debian=1 ;; esac
fi
as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo -n)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$check_only" = 1 ] || [ "$debian" = 0 ] || { [ ${#as_root[@]} -gt 0 ] && ! sudo -n true 2>/dev/null; }; then
    say "the suite needs what this machine lacks:"
    for pkg in "${!missing[@]}"; do printf '  %-20s %s\n' "$pkg" "${missing[$pkg]}" >&2; done
    say "Debian/Ubuntu: apt-get install ${!missing[*]}"
    say "elsewhere: Redis 6.2+, PostgreSQL 12+ (server and client tools), nginx, gettext (envsubst), openssl, curl, jq, Docker with Compose (macOS: brew install redis postgresql@15 nginx gettext openssl jq; Docker Desktop)"
    [ "$debian" = 1 ] && [ "$check_only" = 0 ] && say "run as root (or with passwordless sudo) to have them installed"
    exit 1
  fi
  say "installing with apt-get: ${!missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${!missing[@]}" >/dev/null
fi
[ "$check_only" = 1 ] && { say "everything the suite needs is installed"; }

ensure_redis() {
  if redis_up; then return; fi
  [ "$check_only" = 1 ] && die "Redis does not answer on 127.0.0.1:6379"
  say "starting Redis on 127.0.0.1:6379 (no persistence, as a test server)"
  "${as_root[@]}" mkdir -p /var/lib/redis /var/log/redis
  "${as_root[@]}" redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
    --maxmemory-policy noeviction --dir /var/lib/redis --logfile /var/log/redis/test-all.log
  for _ in $(seq 1 50); do redis_up && return; sleep 0.2; done
  die "Redis did not start; see /var/log/redis/test-all.log"
}

ensure_postgres() {
  if ! postgres_up; then
    [ "$check_only" = 1 ] && die "PostgreSQL does not answer on 127.0.0.1:5432"
    have pg_ctlcluster || die "PostgreSQL does not answer on 127.0.0.1:5432 and this is not Debian's packaging (pg_ctlcluster): start it yourself"
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    [ -n "$version" ] || die "no PostgreSQL cluster under /etc/postgresql after installing"
    say "starting PostgreSQL $version"
    "${as_root[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 50); do postgres_up && break; sleep 0.2; done
    postgres_up || die "PostgreSQL did not start"
  fi
  # The tests connect over TCP as this user without a password, creating and dropping a database per file.
  local role
  role=$(id -un)
  if ! psql -h 127.0.0.1 -U "$role" -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    [ "$check_only" = 1 ] && die "PostgreSQL refuses role $role over TCP without a password"
    local hba version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    if [ -f "$hba" ] && ! "${as_root[@]}" grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      say "letting local TCP connections in without a password ($hba)"
      "${as_root[@]}" sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
      "${as_root[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
    fi
    if ! psql -h 127.0.0.1 -U "$role" -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
      say "creating PostgreSQL role $role"
      "${as_root[@]}" su postgres -c "psql -qc \"create role \\\"$role\\\" superuser login\"" || true
    fi
  fi
}

ensure_engine() {
  engine_up && return
  [ "$check_only" = 1 ] && die "no Docker engine answers \`docker info\`"
  if [ -d /run/systemd/system ] && have systemctl; then
    say "starting the Docker engine (systemctl start docker)"
    "${as_root[@]}" systemctl start docker
  else
    # No systemd: dockerd in the background, its log beside its data. A machine whose firewall is not Docker's to
    # change starts it its own way before this script (CI does).
    say "starting dockerd (log: /var/log/dockerd-test-all.log)"
    "${as_root[@]}" sh -c 'setsid nohup dockerd </dev/null >>/var/log/dockerd-test-all.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do engine_up && return; sleep 1; done
  die "the Docker engine did not answer within 60 s (see its log)"
}

ensure_redis
ensure_postgres
ensure_engine
[ "$check_only" = 1 ] && { say "Redis, PostgreSQL and the Docker engine answer"; exit 0; }

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing the project's dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
exec npm test
