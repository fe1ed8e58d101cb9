#!/usr/bin/env bash
# Browser end-to-end tests of the agent workspace and the chat widget (e2e/): headless Debian Chromium driven by
# playwright-core. Installs Chromium with apt and the one npm package (from e2e/package-lock.json)
# when missing, builds the server, and runs the tests; each test starts its own server on a
# free loopback port in a temporary directory. Screenshots land in docs/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v chromium >/dev/null; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
        || { as_root apt-get update -q >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
fi
if ! command -v node >/dev/null; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null
fi
if ! cmp -s e2e/package-lock.json e2e/node_modules/.installed-lock.json 2>/dev/null; then
    (cd e2e && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.installed-lock.json)
fi

cargo build --locked -p switchboard-server
export SWITCHBOARD_BIN="$CARGO_TARGET_DIR/debug/switchboard"
cd e2e && node --test --test-concurrency=1 --test-timeout=180000
