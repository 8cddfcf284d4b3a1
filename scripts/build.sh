#!/usr/bin/env bash
# npm run build: compiles to dist/ for production (plain `node dist/api.js`, no TypeScript loader at run time)
# and copies what the code reads beside itself: the Lua scripts and the SQL migrations.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
mkdir -p dist/lib/queue dist/lib/http
cp -r lib/queue/lua dist/lib/queue/
cp -r lib/http/lua dist/lib/http/
mkdir -p dist/lib/dashboard
cp -r lib/dashboard/assets dist/lib/dashboard/
cp -r sql dist/
