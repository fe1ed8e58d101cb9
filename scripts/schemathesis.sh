#!/usr/bin/env bash
# Property-based test of the whole HTTP API against its own OpenAPI document: builds the server
# (debug), starts `switchboard serve` on a free loopback port with a throwaway data directory
# holding the demo workspace, creates an admin token, and runs Schemathesis over
# /api/v1/openapi.json with it, most `{id}`s bound to the demo's records
# (scripts/schemathesis-ids.py) so that requests reach past the lookup. Every operation gets
# valid and invalid requests (`--mode all`); a run fails on any 5xx (not_a_server_error), any
# status the document does not list (status_code_conformance), or any response whose media type
# or body does not match it (content_type_conformance, response_schema_conformance): every error
# must be the contract's `{"error": {"code", "message", "field"?}}` with a 4xx.
#
# `scripts/schemathesis.sh [MAX_EXAMPLES]` (default 30 per operation); SCHEMATHESIS_SEED fixes
# the generated data (default 1, so that CI is repeatable; any other seed explores further).
# Installs Schemathesis and Hypothesis (pinned, PyPI; scripts/schemathesis-run.py patches one of
# Hypothesis's functions) into a venv under ~/.cache when missing. The server and Schemathesis
# run in a network namespace of their own with only loopback, so that whatever an admin token
# configures (a CRM's url, an IMAP host) reaches no other machine. CARGO_LOCK, when set, names a
# lock file the build holds (machines where several builds share the cores).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}"
examples="${1:-30}"
seed="${SCHEMATHESIS_SEED:-1}"
version=4.32.5
hypothesis=6.170.17
venv="$HOME/.cache/switchboard-schemathesis-$version-$hypothesis"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" "hypothesis==$hypothesis"
fi

if [ -n "${CARGO_LOCK:-}" ]; then
  flock "$CARGO_LOCK" cargo build --locked -p switchboard-server --bin switchboard
else
  cargo build --locked -p switchboard-server --bin switchboard
fi
bin="$CARGO_TARGET_DIR/debug/switchboard"

work=$(mktemp -d /tmp/switchboard-schemathesis.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin" --data "$work/data" demo >/dev/null
token=$("$bin" --data "$work/data" token create --name schemathesis | tail -n 1)

# Inside the namespace: loopback up, the server on a free port, then Schemathesis against it.
cat >"$work/run.sh" <<'EOF'
set -euo pipefail
ip link set lo up
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" --data "$WORK/data" serve --listen "127.0.0.1:$port" >"$WORK/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" 2>/dev/null; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$WORK/server.log" >&2; exit 1; fi
  sleep 0.2
done
cd "$WORK"
python3 "$ROOT/scripts/schemathesis-ids.py" "http://127.0.0.1:$port" "$TOKEN" "$WORK/schemathesis.toml"
status=0
"$VENV/bin/python3" "$ROOT/scripts/schemathesis-run.py" --config-file "$WORK/schemathesis.toml" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --mode all --max-examples "$EXAMPLES" --seed "$SEED" --workers 2 --request-timeout 30 \
  --suppress-health-check all --generation-database none --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "schemathesis: failures above; the server's log:" >&2
  tail -n 100 "$WORK/server.log" >&2
fi
exit "$status"
EOF
ROOT="$PWD" BIN="$bin" WORK="$work" VENV="$venv" TOKEN="$token" EXAMPLES="$examples" SEED="$seed" \
  unshare --net bash "$work/run.sh"
