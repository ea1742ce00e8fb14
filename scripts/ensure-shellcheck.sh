#!/usr/bin/env bash
# The deployment test runs shellcheck on every shell script of the repository. Installs the
# Debian package shellcheck when it is missing and we may (root); otherwise says how and fails.
set -euo pipefail
if command -v shellcheck >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "ensure-shellcheck: shellcheck is missing; installing the Debian package shellcheck" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y shellcheck
  exit 0
fi
echo "ensure-shellcheck: shellcheck is missing; install it as root with: apt-get update && apt-get install -y shellcheck" >&2
exit 1
