#!/usr/bin/env bash
# Restores a backup made by a backup job into the database at DATABASE_URL, replacing the tables it holds.
#   scripts/restore.sh <backup file> [--yes]
# Without --yes it asks you to type the database name. Stop the workers and the scheduler first, so nothing
# writes while the tables are replaced; the restore runs in one transaction, so a failure changes nothing.
set -euo pipefail

usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; }
die() { printf 'restore: %s\n' "$*" >&2; exit 1; }

file=""
yes=0
for arg in "$@"; do
  case "$arg" in
    --yes|-y) yes=1 ;;
    --help|-h) usage; exit 0 ;;
    -*) die "unknown option $arg (see --help)" ;;
    *) [ -z "$file" ] || die "one backup file at a time"; file="$arg" ;;
  esac
done
[ -n "$file" ] || { usage; exit 1; }
[ -f "$file" ] || die "no such file: $file"
command -v pg_restore >/dev/null || die "pg_restore is not installed (Debian: apt-get install postgresql-client)"

url="${DATABASE_URL:-postgres://localhost:5432/ocft_tracker}"
# The password goes to pg_restore through PGPASSWORD, never on its command line where ps would show it.
eval "$(node -e '
  const u = new URL(process.argv[1]);
  const q = (s) => "\x27" + s.replaceAll("\x27", "\x27\\\x27\x27") + "\x27";
  console.log(`PGPASSWORD=${q(decodeURIComponent(u.password))}`);
  u.password = "";
  console.log(`safe_url=${q(u.toString())}`);
  console.log(`database=${q(decodeURIComponent(u.pathname.slice(1)))}`);
' "$url")"
export PGPASSWORD
[ -n "$PGPASSWORD" ] || unset PGPASSWORD

pg_restore --list "$file" >/dev/null 2>&1 || die "$file is not a pg_dump custom-format backup"

if [ "$yes" != 1 ]; then
  [ -t 0 ] || die "not a terminal: pass --yes to restore without confirmation"
  printf 'This replaces the tables of database "%s" with %s.\nType the database name to go on: ' "$database" "$file"
  read -r answer
  [ "$answer" = "$database" ] || die "cancelled"
fi

pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error --dbname="$safe_url" "$file"
printf 'restore: %s restored into %s\n' "$file" "$database"
