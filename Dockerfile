# syntax=docker/dockerfile:1
# The app image: api, worker, scheduler and migrate all run from it (compose.yaml picks the command; the default
# is the API). deps (every dependency, for the build) -> build (`npm run build`: dist/) -> runtime (production
# dependencies and dist/ only, PostgreSQL 15's client tools for backups, a non-root user).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY api.ts worker.ts scheduler.ts ./
COPY lib ./lib
COPY sql ./sql
# Only the scripts dist/ runs (the rest, benches and the chaos soak, are tools run from a checkout with tsx).
COPY scripts/build.sh scripts/migrate.ts scripts/import-legacy.ts ./scripts/
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# pg_dump, pg_restore and psql of PostgreSQL 15, the server's major version (compose.yaml runs postgres:15-bookworm):
# an older pg_dump refuses a newer server. openssl makes nginx's first self-signed certificate (tls-init service).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 openssl \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY scripts/restore.sh ./scripts/restore.sh
# A named volume mounted on one of these starts as a copy of it, so backups and certificates are writable by `node`.
RUN mkdir -p /var/lib/vibe/backups /var/lib/vibe/tls && chown -R node:node /var/lib/vibe
ENV BACKUP_DIR=/var/lib/vibe/backups
# The code stays root's and read-only; the processes run as the image's unprivileged `node` user (uid 1000).
USER node
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/api.js"]
