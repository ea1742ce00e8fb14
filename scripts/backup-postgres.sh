#!/usr/bin/env bash
# Takes a backup NOW through the service's own pipeline and waits for it: the same dump, checks,
# verification, prune, run log and alerts as a scheduled run, and exit 0 only once the new
# backup is verified. Use it before a risky change (a migration, an import: "dump before any
# destructive action"), or from cron for an extra run. Scheduled backups need no cron: the
# worker runs them (BACKUP_SCHEDULE). This script enqueues a job, so a worker must be running.
#
# Usage:   scripts/backup-postgres.sh [--target NAME | --all] [--json]     (default: --all)
#
# Where backupctl runs (PGBACKUP_MODE=container|compose|host forces one):
#   container  backupctl is on PATH (inside the image): run it directly;
#   compose    a Docker host where this repository's compose project runs the worker:
#              docker compose ... exec -T worker backupctl ...;
#   host       a bare host: node apps/backupctl/dist/main.js from this repository, with the
#              variables of PGBACKUP_ENV_FILE (default /etc/pgbackup/pgbackup.env, if present).
#
# Exit status is backupctl's: 0 verified, 1 failed, 2 usage or configuration, 3 Redis or
# PostgreSQL unreachable.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
compose=(docker compose -f "$root/docker-compose.yml" -f "$root/docker-compose.backup.yml" --profile backup)

args=("$@")
if [ "${#args[@]}" -eq 0 ]; then
  args=(--all)
fi

worker_running_in_compose() {
  command -v docker >/dev/null 2>&1 &&
    [ -n "$("${compose[@]}" ps --status running --quiet worker 2>/dev/null)" ]
}

mode="${PGBACKUP_MODE:-}"
if [ -z "$mode" ]; then
  if command -v backupctl >/dev/null 2>&1; then
    mode=container
  elif worker_running_in_compose; then
    mode=compose
  else
    mode=host
  fi
fi

case "$mode" in
  container)
    command=(backupctl dump --wait "${args[@]}")
    ;;
  compose)
    command=("${compose[@]}" exec -T worker backupctl dump --wait "${args[@]}")
    ;;
  host)
    cli="$root/apps/backupctl/dist/main.js"
    if [ ! -f "$cli" ]; then
      echo "backup-postgres: $cli is missing: build first (bash scripts/bootstrap.sh)" >&2
      exit 2
    fi
    env_file="${PGBACKUP_ENV_FILE:-/etc/pgbackup/pgbackup.env}"
    command=(node)
    if [ -f "$env_file" ]; then
      command+=("--env-file=$env_file")
    elif [ -n "${PGBACKUP_ENV_FILE:-}" ]; then
      echo "backup-postgres: PGBACKUP_ENV_FILE=$env_file does not exist" >&2
      exit 2
    fi
    command+=("$cli" dump --wait "${args[@]}")
    # Relative paths in the configuration (./backups, ./logs) mean the repository, as for the worker.
    cd "$root"
    ;;
  *)
    echo "backup-postgres: PGBACKUP_MODE must be container, compose or host (got '$mode')" >&2
    exit 2
    ;;
esac

echo "backup-postgres: $(date -u +%Y-%m-%dT%H:%M:%SZ) ($mode) ${command[*]}" >&2
exec "${command[@]}"
