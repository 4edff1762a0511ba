#!/usr/bin/env bash
# The whole test suite: unit tests, both services' integration tests on SQLite and on
# Postgres, and the PyJWT interoperability check.
# Postgres is required when CI=true; elsewhere, without a server, its tests are skipped and
# this script says so.
set -euo pipefail
cd "$(dirname "$0")/.."

# The interop test verifies our tokens with PyJWT, an independent implementation.
if ! python3 -c 'import jwt, cryptography' 2>/dev/null; then
  echo "==> installing PyJWT for the interoperability test"
  python3 -m pip install --quiet --disable-pip-version-check 'pyjwt[crypto]==2.10.1' \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'pyjwt[crypto]==2.10.1'
fi

pg_host=${TEST_POSTGRES_HOST:-127.0.0.1}
pg_port=${TEST_POSTGRES_PORT:-5432}
postgres_up() {
  python3 - "$pg_host" "$pg_port" <<'PY'
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
PY
}
if postgres_up 2>/dev/null; then
  postgres_state="ran against $pg_host:$pg_port"
elif [ "${CI:-}" = "true" ]; then
  echo "CI=true but Postgres is unreachable at $pg_host:$pg_port: the Postgres suite is mandatory" >&2
  exit 1
else
  export TASKGATE_SKIP_POSTGRES=1
  postgres_state="SKIPPED (no server at $pg_host:$pg_port)"
  echo "==> Postgres is unreachable at $pg_host:$pg_port: running the SQLite suite only"
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

echo
echo "==> SQLite suite: ran"
echo "==> Postgres suite: $postgres_state"
