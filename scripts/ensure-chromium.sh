#!/usr/bin/env bash
# The dashboard's browser test drives Debian's Chromium through playwright-core, which never
# downloads a browser of its own. Installs the `chromium` package when it is missing and we may
# (root); otherwise says how and fails, so the test run stops with a clear reason.
set -euo pipefail
browser=/usr/bin/chromium
if [ -x "$browser" ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "ensure-chromium: $browser is missing; installing the Debian package chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y chromium
  if [ -x "$browser" ]; then
    exit 0
  fi
  echo "ensure-chromium: apt-get installed chromium but $browser is still missing" >&2
  exit 1
fi
echo "ensure-chromium: $browser is missing; install it as root with: apt-get update && apt-get install -y chromium" >&2
exit 1
