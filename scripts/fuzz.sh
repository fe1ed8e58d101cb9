#!/usr/bin/env bash
# Fuzzes the email intake with libFuzzer for a bounded time (default 120 s), seeded with every
# message of the email corpus: `scripts/fuzz.sh [SECONDS]`. Exits non-zero on a panic or crash,
# leaving the input under fuzz/artifacts/email_intake/. Installs cargo-fuzz from crates.io when
# missing; the stable compiler is let to take libFuzzer's -Z flags with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}/fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
corpus=$(mktemp -d /tmp/switchboard-fuzz.XXXXXX)
trap 'rm -rf "$corpus"' EXIT
cp crates/email/tests/corpus/*.eml "$corpus/"
cd fuzz
RUSTC_BOOTSTRAP=1 cargo fuzz run email_intake "$corpus" -- \
  -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=262144 -timeout=10
