#!/usr/bin/env bash
# Fuzzes the email intake and every webhook parser with libFuzzer, each target for a bounded
# time: `scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]` (default 60 s, every target in
# fuzz/Cargo.toml). Targets run FUZZ_JOBS at a time (default 2, one a core of CI's machine).
#
# Each target starts from its seeds: the provider fixtures of crates/channels/tests/fixtures/
# (the email corpus for email_intake) plus fuzz/seeds/<target>/. Exits non-zero when any target
# panics, crashes or hangs, leaving the input under fuzz/artifacts/<target>/ and printing the
# end of its log and the command that replays it.
#
# Builds once for all targets: release with debug assertions and overflow checks as in tests
# (fuzz/Cargo.toml's profile; `--debug-assertions` would also turn on mail-parser's own, which
# no build of the server runs), no sanitizer (the parsers are safe Rust: libFuzzer's coverage and panics are what
# matter, and AddressSanitizer would double the build and slow every input), opt-level 1
# (fuzz/Cargo.toml: a cold build in a few minutes on 2 cores). Installs cargo-fuzz from
# crates.io when missing; the stable compiler is let to take libFuzzer's -Z flags with
# RUSTC_BOOTSTRAP=1. CARGO_LOCK, when set, names a lock file that every cargo run here holds
# (machines where several builds share the cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds="${1:-60}"
shift || true
jobs="${FUZZ_JOBS:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}/fuzz"
export RUSTC_BOOTSTRAP=1

cargo_run() {
  if [ -n "${CARGO_LOCK:-}" ]; then flock "$CARGO_LOCK" cargo "$@"; else cargo "$@"; fi
}

command -v cargo-fuzz >/dev/null || cargo_run install cargo-fuzz --version 0.13.2 --locked

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi

(cd fuzz && cargo_run fuzz build --release --sanitizer none)
bin_dir="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"

work=$(mktemp -d /tmp/switchboard-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The seeds of one target, copied into a fresh corpus directory (libFuzzer adds to it).
seed() {
  local target=$1 corpus=$2
  mkdir -p "$corpus"
  case "$target" in
    email_intake) cp crates/email/tests/corpus/*.eml crates/email/tests/fuzz-regressions/* "$corpus/" ;;
    api | widget) ;;
    *) cp crates/channels/tests/fixtures/"$target"/* "$corpus/" ;;
  esac
  if [ -d "fuzz/seeds/$target" ]; then cp fuzz/seeds/"$target"/* "$corpus/"; fi
  if [ -z "$(ls -A "$corpus")" ]; then
    echo "fuzz: no seeds for $target" >&2
    return 1
  fi
}

# One target for $seconds; its log goes to $work/<target>.log.
run() {
  local target=$1 max_len=65536
  [ "$target" = email_intake ] && max_len=262144
  mkdir -p "fuzz/artifacts/$target"
  seed "$target" "$work/corpus/$target"
  "$bin_dir/$target" "$work/corpus/$target" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$max_len" -timeout=10 \
    -artifact_prefix="$root/fuzz/artifacts/$target/" -print_final_stats=1 \
    >"$work/$target.log" 2>&1
}

failed=()
declare -A pids
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run "$target" &
  pids[$target]=$!
done
for target in "${targets[@]}"; do
  if ! wait "${pids[$target]}"; then failed+=("$target"); fi
done

# One line a target: inputs run, coverage reached, corpus size.
for target in "${targets[@]}"; do
  log="$work/$target.log"
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -Eo '(#[0-9]+\s+(DONE|pulse|NEW|REDUCE)\s+cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+)' "$log" | tail -1 | sed -E 's/.*(cov: .*)/\1/' || true)
  echo "fuzz: $target: ${seconds}s, $execs inputs, ${cov:-no stats}"
done

if [ "${#failed[@]}" -gt 0 ]; then
  for target in "${failed[@]}"; do
    echo "fuzz: $target FAILED; its input is under fuzz/artifacts/$target/; reproduce with $bin_dir/$target <artifact>" >&2
    tail -n 60 "$work/$target.log" >&2
  done
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, no crash"
