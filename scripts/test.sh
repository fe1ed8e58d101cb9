#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, every test on SQLite and PostgreSQL, the
# browser end-to-end tests of the agent workspace (scripts/e2e.sh: headless Chromium),
# Schemathesis over the OpenAPI document against a running server (scripts/schemathesis.sh),
# and every fuzz target for FUZZ_SECONDS each (default 60: scripts/fuzz.sh). See SECURITY.md.
# Installs PostgreSQL, Dovecot and Postfix with apt when they are missing, starts a throwaway
# PostgreSQL cluster and the mail servers (scripts/mail-servers.sh) on 127.0.0.1 on free ports
# in temporary directories, and stops them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}"

source scripts/postgres.sh
source scripts/mail-servers.sh
trap 'stop_mail_servers; stop_postgres' EXIT
start_postgres
start_mail_servers

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked "$@"
scripts/e2e.sh
scripts/schemathesis.sh
scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
