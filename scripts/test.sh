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
# On every core (pytest-xdist; STEPLR_TEST_WORKERS=0 runs in this process), in a random order
# (pytest-randomly prints its seed; --randomly-seed=N repeats it). --dist loadfile keeps a test
# file on one worker, so its module fixtures are built once; each worker starts its own Chromium,
# app server and PostgreSQL cluster when a test of its needs one. Arguments pass through to pytest
# (later options win: -n 3, -p no:randomly, a folder, ...).
python -m pytest -n "${STEPLR_TEST_WORKERS:-auto}" --dist loadfile "$@"
