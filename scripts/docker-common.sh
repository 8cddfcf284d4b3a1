# shellcheck shell=bash
# Sourced by start-docker.sh and dev-docker.sh: which Compose to run, and a .env that sets POSTGRES_PASSWORD.
# Expects ROOT (the repository) and PROG (the script's name for messages) to be set.

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "$*"; exit 1; }

# Compose v2 (`docker compose`) when the plugin is there, else the standalone v1 `docker-compose`.
# shellcheck disable=SC2034 # COMPOSE is used by the scripts that source this file
find_compose() {
  if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  else
    die "neither \`docker compose\` nor \`docker-compose\` is installed (https://docs.docker.com/compose/install/)"
  fi
}

# The value of NAME in .env ("" when missing); the shell's own value wins, as it does for Compose.
env_value() {
  local name=$1 value
  value=$(printenv "$name" 2>/dev/null || true)
  if [ -z "$value" ] && [ -f "$ROOT/.env" ]; then
    value=$(sed -n "s/^[[:space:]]*$name=//p" "$ROOT/.env" | tail -n 1)
    value=${value%\"}
    value=${value#\"}
  fi
  printf '%s' "$value"
}

random_password() {
  # Hex only: the password goes into DATABASE_URL unescaped.
  od -An -tx1 -N24 /dev/urandom | tr -d ' \n'
}

# Compose refuses to start without POSTGRES_PASSWORD; offer to make one rather than fail with its message.
ensure_env() {
  [ -n "$(env_value POSTGRES_PASSWORD)" ] && return 0
  local env_file="$ROOT/.env" answer=""
  if [ -f "$env_file" ]; then
    say ".env has no POSTGRES_PASSWORD."
  else
    say "there is no .env yet."
  fi
  if [ -t 0 ]; then
    read -r -p "$PROG: write a random POSTGRES_PASSWORD into .env$([ -f "$env_file" ] || echo ' (a copy of .env.example)')? [Y/n] " answer
  else
    answer=${VIBE_ASSUME_YES:-n}
  fi
  case "$answer" in
    ''|y|Y|yes) ;;
    *) die "set POSTGRES_PASSWORD in .env (letters and digits: it goes into DATABASE_URL), e.g. POSTGRES_PASSWORD=$(random_password)" ;;
  esac
  if [ ! -f "$env_file" ]; then
    cp "$ROOT/.env.example" "$env_file"
    chmod 600 "$env_file"
  fi
  local password
  password=$(random_password)
  if grep -q '^[[:space:]]*#\{0,1\}[[:space:]]*POSTGRES_PASSWORD=' "$env_file"; then
    sed -i.bak "s/^[[:space:]]*#\{0,1\}[[:space:]]*POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$password/" "$env_file"
    rm -f "$env_file.bak"
  else
    printf '\n# PostgreSQL password of the compose stack (read when its data volume is first created).\nPOSTGRES_PASSWORD=%s\n' "$password" >>"$env_file"
  fi
  say "wrote a random POSTGRES_PASSWORD into .env"
}
