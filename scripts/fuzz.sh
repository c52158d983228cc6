#!/usr/bin/env bash
# Fuzz a live PCM with schemathesis, from its own OpenAPI schema: every default check, a
# bounded number of examples per operation. A fresh database with the demo configuration:
# SQLite, or with FUZZ_DATABASE_URL=postgres://.../<db> a new database beside <db> on that
# server (dropped at the end); the server on a free loopback port; stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
EXAMPLES=${FUZZ_EXAMPLES:-25}
export PCM_DATA_DIR=$(mktemp -d)
export PCM_THROTTLE_USER=""  # the fuzzer is one user sending many requests
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "${FUZZ_DATABASE_URL:-}" ] && $PY scripts/scratch_db.py drop "$FUZZ_DATABASE_URL" "${DATABASE_URL:-}"
  rm -rf "$PCM_DATA_DIR"
}
trap cleanup EXIT
unset DATABASE_URL
if [ -n "${FUZZ_DATABASE_URL:-}" ]; then
  DATABASE_URL=$($PY scripts/scratch_db.py create "$FUZZ_DATABASE_URL" "pcm_fuzz_$$")
  export DATABASE_URL
  echo "fuzzing against PostgreSQL (a scratch database, dropped at the end)"
fi

$PY manage.py migrate -v0
token=$($PY manage.py pcm_demo | sed -n "s/^API token of 'admin': //p")
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$PY manage.py runserver "127.0.0.1:$port" --noreload >"$PCM_DATA_DIR/server.log" 2>&1 &
server=$!

.venv/bin/schemathesis --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/pcm_api/schema" \
  --header "Authorization: Token $token" \
  --max-examples "$EXAMPLES" --phases examples,coverage,fuzzing \
  --wait-for-schema 30 --workers 2 --seed "${FUZZ_SEED:-1}" --no-color
