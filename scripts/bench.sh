#!/usr/bin/env bash
# The benchmark behind BENCHMARKS.md: builds the release binaries, then runs
# `switchboard-loadgen` against `switchboard serve` on SQLite and on a throwaway PostgreSQL
# cluster (installed with apt when missing, on 127.0.0.1 in a temporary directory, stopped
# afterwards). Both runs end with 20,000 raw emails through the email hook (the corpus of
# crates/email/tests/corpus, cycled). Extra arguments go to both loadgen runs, e.g. `scripts/bench.sh --messages 20000`.
# Then the search benchmark on both backends (SEARCH_MESSAGES=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}"

cargo build --release --locked -p switchboard-server -p switchboard-loadgen
loadgen="$CARGO_TARGET_DIR/release/switchboard-loadgen"

echo "== SQLite"
"$loadgen" --email-messages 20000 "$@"

source scripts/postgres.sh
start_postgres
trap stop_postgres EXIT
"$(pg_bin)/psql" -q -v ON_ERROR_STOP=1 "$SWITCHBOARD_TEST_POSTGRES_URL" -c "CREATE DATABASE bench"
echo "== PostgreSQL"
"$loadgen" --database-url "${SWITCHBOARD_TEST_POSTGRES_URL%/postgres}/bench" --email-messages 20000 "$@"

# Search at 1,000,000 messages: the fill, `switchboard reindex`, searches and the answer API.
if [ "${SEARCH_MESSAGES:-1000000}" != 0 ]; then
    echo "== Search, SQLite"
    "$loadgen" --search-messages "${SEARCH_MESSAGES:-1000000}"
    "$(pg_bin)/psql" -q -v ON_ERROR_STOP=1 "$SWITCHBOARD_TEST_POSTGRES_URL" -c "CREATE DATABASE bench_search"
    echo "== Search, PostgreSQL"
    "$loadgen" --database-url "${SWITCHBOARD_TEST_POSTGRES_URL%/postgres}/bench_search" --search-messages "${SEARCH_MESSAGES:-1000000}"
fi
