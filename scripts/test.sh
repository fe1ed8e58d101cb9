#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, and every test on SQLite and PostgreSQL.
# Installs PostgreSQL with apt when it is missing, starts a throwaway cluster on 127.0.0.1 on a
# free port in a temporary directory, and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}"

source scripts/postgres.sh
start_postgres
trap stop_postgres EXIT

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked "$@"
