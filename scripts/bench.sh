#!/usr/bin/env bash
# `make bench`: the load test of both services on Postgres, then the token-verification
# micro-benchmark. Builds release binaries, creates a throwaway Postgres database, starts the
# auth-service and the tasks-service on free ports, runs tools/loadgen (seeding 1,000 users
# with 20 tasks each, then timed scenarios), prints a Markdown report (also saved under
# target/bench/), stops the services and drops the database. See docs/benchmarks.md.
#
# Environment:
#   BENCH_QUICK=1        smoke run (< 1 minute after the build): 100 users, 2 s per scenario
#   BENCH_DURATION=15    measured seconds per scenario      BENCH_WARMUP=2  warm-up seconds
#   BENCH_USERS=1000     users (each with 20 tasks)
#   BENCH_CONCURRENCY=256       connections for the tasks-service scenarios
#   BENCH_STORM_READERS=32      readers during the sign-in storm (and its baseline run)
#   BENCH_AUTH_CONCURRENCY=64   connections for sign-in and refresh
#   BENCH_STORM_SIGN_INS=64     sign-in clients during the storm (beside the readers)
#   BENCH_POOL=32        database pool of each service (32 beat 10 by ~20 % on list)      BENCH_LOADGEN_ARGS  extra flags
#   BENCH_SKIP_BUILD=1   reuse the release binaries already built (re-runs while tuning)
#   BENCH_POSTGRES_HOST=127.0.0.1 / BENCH_POSTGRES_PORT=5432 (user postgres, trust auth)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${BENCH_QUICK:-}" = 1 ]; then
  duration=${BENCH_DURATION:-2}
  warmup=${BENCH_WARMUP:-1}
  users=${BENCH_USERS:-100}
  criterion_args=(--warm-up-time 1 --measurement-time 2)
else
  duration=${BENCH_DURATION:-15}
  warmup=${BENCH_WARMUP:-2}
  users=${BENCH_USERS:-1000}
  criterion_args=()
fi
concurrency=${BENCH_CONCURRENCY:-256}
auth_concurrency=${BENCH_AUTH_CONCURRENCY:-64}
storm_sign_ins=${BENCH_STORM_SIGN_INS:-64}
storm_readers=${BENCH_STORM_READERS:-32}
pool=${BENCH_POOL:-32}
pg_host=${BENCH_POSTGRES_HOST:-127.0.0.1}
pg_port=${BENCH_POSTGRES_PORT:-5432}

if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
  echo "==> building release binaries"
  cargo build --release -p auth-service -p tasks-service -p loadgen
fi
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

psql_admin() { psql -h "$pg_host" -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

if ! psql_admin -c 'select 1' >/dev/null 2>&1; then
  echo "==> starting Postgres"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 50); do psql_admin -c 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
fi
# The postmaster's pid, so loadgen can count the CPU of Postgres and all its backends.
pg_pid=$(head -n 1 "$(psql_admin -c 'show data_directory')/postmaster.pid" 2>/dev/null || true)

db="taskgate_bench_$$"
work=$(mktemp -d)
pids=()
cleanup() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  psql_admin -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup INT TERM EXIT
psql_admin -c "create database $db" >/dev/null
db_url="postgres://postgres@$pg_host:$pg_port/$db"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_ready() { # name url pid
  for _ in $(seq 1 150); do
    if curl -fs -o /dev/null --max-time 1 "$2"; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "$1 did not become ready at $2; its log:" >&2
  tail -n 30 "$work/$1.log" >&2
  return 1
}
auth_port=$(free_port)
tasks_port=$(free_port)

# Per-request info logs cost CPU the services would otherwise spend on requests; warnings and
# errors still show up in the logs under $work.
export RUST_LOG=${BENCH_RUST_LOG:-warn}

# Sign-in throttling counts every attempt per client IP *before* hashing and takes it back on
# success, so 64 concurrent sign-ins from 127.0.0.1 look like 64 failures in flight and would
# lock the address (limit 20) within the first second; the limits are raised so the storm
# measures argon2 and the database, not the lockout. Likewise the sign-up limit per address
# (the seed signs every user up from 127.0.0.1) and the hash queue's bounds (the storm's 64
# sign-ins queue for one or two hashers, as they did before the queue was bounded).
AUTH__HTTP__PORT=$auth_port \
  AUTH__DATA_DIR="$work/auth" \
  AUTH__DATABASE__URL="$db_url" \
  AUTH__DATABASE__MAX_CONNECTIONS=$pool \
  AUTH__THROTTLE__IP_MAX_FAILURES=1000000000 \
  AUTH__THROTTLE__ACCOUNT_MAX_FAILURES=1000000000 \
  AUTH__THROTTLE__SIGN_UPS_PER_ADDRESS=1000000000 \
  AUTH__PASSWORDS__MAX_QUEUED_HASHES=100000 \
  AUTH__PASSWORDS__MAX_HASH_WAIT_MS=60000 \
  "$target_dir/release/auth-service" >"$work/auth-service.log" 2>&1 &
auth_pid=$!
pids+=("$auth_pid")
wait_ready auth-service "http://127.0.0.1:$auth_port/readyz" "$auth_pid"

# The tasks-service reads the revocation feed as an OAuth client of its own, as in production.
feed_client=$(AUTH__DATA_DIR="$work/auth" AUTH__DATABASE__URL="$db_url" \
  "$target_dir/release/auth-service" clients create --name "revocation follower (bench)" \
  --scope revocations:read)
TASKS__HTTP__PORT=$tasks_port \
  TASKS__AUTH__FEED_CLIENT_ID=$(printf '%s\n' "$feed_client" | sed -n 's/^client_id: *//p') \
  TASKS__AUTH__FEED_CLIENT_SECRET=$(printf '%s\n' "$feed_client" | sed -n 's/^client_secret: *//p') \
  TASKS__DATA_DIR="$work/tasks" \
  TASKS__DATABASE__URL="$db_url" \
  TASKS__DATABASE__MAX_CONNECTIONS=$pool \
  TASKS__AUTH__ISSUER_URL="http://127.0.0.1:$auth_port" \
  "$target_dir/release/tasks-service" >"$work/tasks-service.log" 2>&1 &
tasks_pid=$!
pids+=("$tasks_pid")
wait_ready tasks-service "http://127.0.0.1:$tasks_port/readyz" "$tasks_pid"

watch_tree=()
if [ -n "$pg_pid" ] && [ -d "/proc/$pg_pid" ]; then watch_tree=(--watch-tree "postgres=$pg_pid"); fi

mkdir -p "$target_dir/bench"
report="$target_dir/bench/loadgen-$(date -u +%Y%m%dT%H%M%SZ).md"
echo "==> load test: $users users, ${duration}s per scenario (+${warmup}s warm-up), pools of $pool"
# shellcheck disable=SC2086 # BENCH_LOADGEN_ARGS is a list of flags.
"$target_dir/release/loadgen" \
  --auth-url "http://127.0.0.1:$auth_port" \
  --tasks-url "http://127.0.0.1:$tasks_port" \
  --users "$users" --duration "$duration" --warmup "$warmup" \
  --concurrency "$concurrency" --auth-concurrency "$auth_concurrency" \
  --storm-sign-ins "$storm_sign_ins" \
  --storm-readers "$storm_readers" \
  --watch "auth-service=$auth_pid" --watch "tasks-service=$tasks_pid" "${watch_tree[@]}" \
  ${BENCH_LOADGEN_ARGS:-} | tee "$report"

echo
echo "Peak RSS over the whole run (VmHWM):"
for name in auth-service tasks-service; do
  pid=$auth_pid
  [ "$name" = tasks-service ] && pid=$tasks_pid
  echo "  $name: $(grep VmHWM "/proc/$pid/status" | awk '{printf "%.1f MiB", $2 / 1024}')"
done | tee -a "$report"
for name in auth-service tasks-service; do
  # The development master-key notice is expected here; anything else is worth a look.
  notes=$(sed 's/\x1b\[[0-9;]*m//g' "$work/$name.log" | grep -E 'ERROR|WARN' | grep -v 'master key' || true)
  if [ -n "$notes" ]; then
    echo "  $name logged $(wc -l <<<"$notes") warnings or errors; the last ones:"
    tail -n 5 <<<"$notes" | cut -c 1-300 | sed 's/^/    /'
  fi
done
# Keep the services' logs beside the report.
cp "$work/auth-service.log" "${report%.md}-auth-service.log"
cp "$work/tasks-service.log" "${report%.md}-tasks-service.log"
echo "Report (and the services' logs) saved to $report"

# The micro-benchmark runs alone, after the services are gone.
cleanup
if [ -f crates/auth-core/benches/verify.rs ]; then
  echo
  echo "==> token verification micro-benchmark"
  cargo bench -p auth-core --bench verify -- "${criterion_args[@]}"
else
  echo "(crates/auth-core/benches/verify.rs does not exist yet: no micro-benchmark)"
fi

# The browser app: how fast its first page is interactive with the services local (needs
# Debian's Chromium; docs/web.md, "Numbers").
echo
if [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "==> the browser app's first page"
  scripts/web-deps.sh
  bin_dir=$(scripts/debug-binaries.sh)
  (cd web && TASKGATE_BIN_DIR=$bin_dir npm run measure --silent)
else
  echo "(no Chromium at ${CHROMIUM:-/usr/bin/chromium}: the browser app's first page is not measured)"
fi
