#!/usr/bin/env bash
# Makes a clone runnable: checks the tools the service needs, installs dependencies with the
# pinned pnpm and builds every package. Safe to run again: each step is skipped when up to date.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

node_major="$(node -p 'process.versions.node.split(".").map(Number).join(" ")')"
read -r major minor _ <<<"$node_major"
if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; }; then
  echo "bootstrap: Node.js >= 20.19 is required, found $(node --version)" >&2
  exit 2
fi

missing=()
# shellcheck disable=SC2012 # directory names of PostgreSQL majors: digits only
pg_bin_dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
for tool in pg_dump pg_restore psql; do
  if ! command -v "$tool" >/dev/null 2>&1 && { [ -z "$pg_bin_dir" ] || [ ! -x "$pg_bin_dir/$tool" ]; }; then
    missing+=("$tool (Debian package postgresql-client)")
  fi
done
command -v zstd >/dev/null 2>&1 || missing+=("zstd (Debian package zstd)")
if [ "${#missing[@]}" -gt 0 ]; then
  printf 'bootstrap: missing required tool: %s\n' "${missing[@]}" >&2
  echo "bootstrap: install them with: apt-get install -y postgresql-client zstd" >&2
  exit 2
fi

export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
bash scripts/pnpm.sh install --frozen-lockfile --reporter=append-only
bash scripts/pnpm.sh exec turbo run build --output-logs=errors-only
