#!/usr/bin/env bash
# Runs the pnpm version pinned in package.json's packageManager field. corepack fails its
# signature check on some machines, so pnpm comes from the npm registry through `npm exec`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wanted="$(node -p "require('$root/package.json').packageManager.split('@')[1]")"
if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$wanted" ]; then
  exec pnpm "$@"
fi
exec npm exec --yes --package="pnpm@$wanted" -- pnpm "$@"
