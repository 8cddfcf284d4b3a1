# shellcheck shell=bash
# Sourced by start-docker.sh and dev-docker.sh: which Compose to run, and a .env holding the stack's secrets.
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

# The secrets the stack needs: compose refuses to start without the first three, and the API in production
# without the tokens. Each is generated when missing, also into an .env an earlier release wrote, so an upgrade
# does not stop at a compose error.
SECRETS=(POSTGRES_PASSWORD REDIS_PASSWORD API_TOKEN API_READ_TOKEN)
secret_comment() {
  case "$1" in
    POSTGRES_PASSWORD) echo "PostgreSQL password of the compose stack (read when its data volume is first created)." ;;
    REDIS_PASSWORD) echo "Redis password of the compose stack (requirepass)." ;;
    API_TOKEN) echo "The admin token: every change (POST, DELETE) needs Authorization: Bearer <API_TOKEN>." ;;
    API_READ_TOKEN) echo "The read token: every GET but /health and /ready needs it (or API_TOKEN)." ;;
  esac
}

# Writes a random value for each secret .env lacks, after asking (without a terminal: when VIBE_ASSUME_YES=y).
ensure_env() {
  local env_file="$ROOT/.env" answer="" missing=() name
  for name in "${SECRETS[@]}"; do
    [ -n "$(env_value "$name")" ] || missing+=("$name")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -f "$env_file" ]; then
    say ".env has no ${missing[*]}."
  else
    say "there is no .env yet."
  fi
  if [ -t 0 ]; then
    read -r -p "$PROG: write a random ${missing[*]} into .env$([ -f "$env_file" ] || echo ' (a copy of .env.example)')? [Y/n] " answer
  else
    answer=${VIBE_ASSUME_YES:-n}
  fi
  case "$answer" in
    ''|y|Y|yes) ;;
    *) die "set ${missing[*]} in .env (letters and digits: passwords go into connection URLs), e.g. ${missing[0]}=$(random_password)" ;;
  esac
  if [ ! -f "$env_file" ]; then
    cp "$ROOT/.env.example" "$env_file"
  fi
  chmod 600 "$env_file"
  for name in "${missing[@]}"; do
    local value
    value=$(random_password)
    if grep -q "^[[:space:]]*#\{0,1\}[[:space:]]*$name=" "$env_file"; then
      sed -i.bak "s/^[[:space:]]*#\{0,1\}[[:space:]]*$name=.*/$name=$value/" "$env_file"
      rm -f "$env_file.bak"
    else
      printf '\n# %s\n%s=%s\n' "$(secret_comment "$name")" "$name" "$value" >>"$env_file"
    fi
  done
  say "wrote a random ${missing[*]} into .env"
}
