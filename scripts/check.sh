#!/usr/bin/env bash
# The whole verification: lint, typecheck, then every package's tests one package at a time
# (each starts its own private PostgreSQL and Redis; two cores do not run four suites well).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
bash scripts/pnpm.sh exec biome ci .
bash scripts/pnpm.sh exec turbo run typecheck --output-logs=errors-only
bash scripts/ensure-chromium.sh
bash scripts/ensure-shellcheck.sh
bash scripts/pnpm.sh exec turbo run test --concurrency=1
