# syntax=docker/dockerfile:1
#
# One image, three entry points:
#   worker (default CMD)  node apps/worker/dist/main.js
#   dashboard             node apps/dashboard/dist/main.js   (`command:` in docker-compose.backup.yml)
#   CLI                   backupctl <command>                 (on PATH)
#
# Build:   docker build --build-arg PG_MAJOR=17 -t pg-backup-service:pg17 .
# or:      docker compose -f docker-compose.yml -f docker-compose.backup.yml --profile backup build
#
# Needs BuildKit (the default builder since Docker 23) for the cache mounts below.

# Node LTS line; package.json's engines ask for >= 20.19.
ARG NODE_VERSION=22
# Debian release of the node image; apt.postgresql.org must have a `<release>-pgdg` suite for it.
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------
# build: the repository's own install and build, then a production-only node_modules.
# ---------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS build
WORKDIR /src
# CI=true: pnpm never prompts (it would ask before replacing node_modules in the prune step).
ENV CI=true \
    TURBO_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY . .

# scripts/pnpm.sh runs the pnpm version pinned in package.json's packageManager through
# `npm exec`, exactly as on a developer machine and in CI (corepack is not used: its signature
# check fails on some machines). The lockfile is authoritative: --frozen-lockfile.
RUN --mount=type=cache,id=pgbackup-npm,target=/root/.npm \
    --mount=type=cache,id=pgbackup-pnpm-store,target=/pnpm-store \
    bash scripts/pnpm.sh install --frozen-lockfile --store-dir /pnpm-store \
 && bash scripts/pnpm.sh exec turbo run build \
      --filter=@pgbackup/worker --filter=@pgbackup/backupctl --filter=@pgbackup/dashboard \
      --output-logs=errors-only

# A fresh install without devDependencies (TypeScript, turbo, vitest, biome stay behind):
# `pnpm install --prod` over an existing tree unlinks them but leaves them in node_modules/.pnpm.
RUN --mount=type=cache,id=pgbackup-npm,target=/root/.npm \
    --mount=type=cache,id=pgbackup-pnpm-store,target=/pnpm-store \
    find . -name node_modules -type d -prune -exec rm -rf {} + \
 && bash scripts/pnpm.sh install --prod --frozen-lockfile --prefer-offline --store-dir /pnpm-store

# ---------------------------------------------------------------------------------------------
# pgdg-key: the apt.postgresql.org signing key, taken from Debian's own postgresql-common
# package (signed by Debian) instead of a download with curl: nothing unsigned is fetched and
# neither curl nor gnupg ends up in the runtime image.
# ---------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS pgdg-key
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-common \
 && test -s /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc

# ---------------------------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS runtime
ARG DEBIAN_RELEASE

# Major version of the PostgreSQL client tools (pg_dump, pg_restore, psql), from the PGDG
# repository so that every supported major is available, whatever Debian ships.
# pg_dump must NOT be older than the server it dumps: pg_dump refuses a newer server ("server
# version mismatch"; the worker reports PG_DUMP_TOO_OLD and does not retry). A newer pg_dump
# dumps older servers fine. So: the major of your NEWEST server, and rebuild with the new major
# BEFORE upgrading a server (docs/runbooks/database-backup-automation.md, "Upgrading PostgreSQL").
ARG PG_MAJOR=17
# The server binaries (initdb, pg_ctl) of the same major: verifying a server's globals backup at
# the `restore` level replays it into a throwaway cluster the worker starts itself. No cluster is
# created at install (createcluster.d) and none runs in the image. About 60 MB; build with
# --build-arg PG_SERVER_TOOLS=false to leave them out (globals verify at `restore` is then
# VERIFY_INCONCLUSIVE, TOOL_MISSING: keep server targets at the `read` level).
ARG PG_SERVER_TOOLS=true

COPY --from=pgdg-key /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc /usr/share/keyrings/apt.postgresql.org.asc

# zstd compresses the dumps; tini is PID 1 (see ENTRYPOINT). The man1 directory lets the
# client package register its man page alternatives on a slim image (which has no man pages).
RUN set -eux; \
    mkdir -p /usr/share/man/man1; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates; \
    printf '%s\n' \
      'Types: deb' \
      'URIs: https://apt.postgresql.org/pub/repos/apt' \
      "Suites: ${DEBIAN_RELEASE}-pgdg" \
      'Components: main' \
      'Signed-By: /usr/share/keyrings/apt.postgresql.org.asc' \
      > /etc/apt/sources.list.d/pgdg.sources; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}" zstd tini; \
    if [ "${PG_SERVER_TOOLS}" = true ]; then \
      mkdir -p /etc/postgresql-common/createcluster.d; \
      echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main-cluster.conf; \
      apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}"; \
      "/usr/lib/postgresql/${PG_MAJOR}/bin/initdb" --version; \
    fi; \
    rm -rf /var/lib/apt/lists/*; \
    "/usr/lib/postgresql/${PG_MAJOR}/bin/pg_dump" --version; \
    zstd --version

# In a container: data under /backups and /logs (bind-mounted), /healthz reachable from outside
# the container (Docker runs its health check inside, but Kubernetes probes come from outside).
ENV NODE_ENV=production \
    BACKUP_DIR=/backups \
    BACKUP_LOG_DIR=/logs \
    BACKUP_HEALTH_HOST=0.0.0.0

WORKDIR /app
# Only what runs: package manifests (workspace resolution reads their `exports`), compiled
# code, production node_modules (relative pnpm symlinks, preserved by COPY). Owned by root and
# read-only to the service user.
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages/backup-core/package.json ./packages/backup-core/
COPY --from=build /src/packages/backup-core/dist ./packages/backup-core/dist
COPY --from=build /src/packages/backup-core/node_modules ./packages/backup-core/node_modules
COPY --from=build /src/packages/queue/package.json ./packages/queue/
COPY --from=build /src/packages/queue/dist ./packages/queue/dist
COPY --from=build /src/packages/queue/node_modules ./packages/queue/node_modules
COPY --from=build /src/apps/worker/package.json ./apps/worker/
COPY --from=build /src/apps/worker/dist ./apps/worker/dist
COPY --from=build /src/apps/worker/node_modules ./apps/worker/node_modules
COPY --from=build /src/apps/backupctl/package.json ./apps/backupctl/
COPY --from=build /src/apps/backupctl/bin ./apps/backupctl/bin
COPY --from=build /src/apps/backupctl/dist ./apps/backupctl/dist
COPY --from=build /src/apps/backupctl/node_modules ./apps/backupctl/node_modules
COPY --from=build /src/apps/dashboard/package.json ./apps/dashboard/
COPY --from=build /src/apps/dashboard/dist ./apps/dashboard/dist
COPY --from=build /src/apps/dashboard/node_modules ./apps/dashboard/node_modules

# `backupctl` on PATH: the committed shim, which imports dist/main.js next to it (Node
# resolves the symlink first). The mount points belong to the service user (uid 1000, `node`).
RUN chmod 0755 /app/apps/backupctl/bin/backupctl.js \
 && ln -s /app/apps/backupctl/bin/backupctl.js /usr/local/bin/backupctl \
 && install -d -o node -g node -m 0700 /backups /logs

USER node

# 3001: the worker's /healthz. 3000: the dashboard.
EXPOSE 3001 3000

# tini is PID 1: it forwards SIGTERM to Node (which stops taking jobs and lets the running ones
# finish until BACKUP_SHUTDOWN_TIMEOUT) and reaps orphaned children. Not `tini -g`: the signal
# must reach Node only, never pg_dump directly, or a stop would kill a dump before its deadline.
# Exec form throughout: no shell sits between tini and Node to swallow the signal.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "apps/worker/dist/main.js"]
