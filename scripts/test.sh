#!/usr/bin/env bash
# Set up and run every test, browser tests included, on a fresh Debian machine.
# This is the README's test command; CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

# Debian's chromium drives the real-browser tests (playwright cannot download browsers here).
if ! command -v chromium >/dev/null 2>&1; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# Debian's postgresql: tests marked postgres start a throwaway server with its initdb and pg_ctl.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
# axe-core (pinned in tests/e2e/package.json) for the accessibility browser test, from npm.
if [ ! -f tests/e2e/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null 2>&1; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
fi
python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
python -m pytest "$@"
