#!/usr/bin/env bash
# Builds and starts the auth-service (8081) and the tasks-service (8082) on the embedded
# SQLite default (files under ./data/), then the browser app (web/, Vite) on 8080, which also
# forwards the API paths to the services: one origin for the browser. Prints the URL to open
# and stops everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

bin_dir=$(scripts/debug-binaries.sh)

auth_port=${AUTH__HTTP__PORT:-8081}
tasks_port=${TASKS__HTTP__PORT:-8082}
web_port=${TASKGATE_WEB_PORT:-8080}
web_url=http://127.0.0.1:$web_port

# The app's dependencies, from the lock file, when they are missing.
scripts/web-deps.sh
pids=()
running() {
  local pid
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
# Each service drains on SIGINT or SIGTERM and exits at once on a second signal. Ctrl-C has
# already sent SIGINT to both (they share the terminal's process group), so give them a few
# seconds before sending SIGTERM to whatever is left.
stop() { # grace_in_tenths_of_a_second
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for _ in $(seq 1 "$1"); do running || break; sleep 0.1; done
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop 50' INT
trap 'stop 0' TERM EXIT

wait_ready() { # name url
  for _ in $(seq 1 100); do
    if python3 - "$2" <<'PY' 2>/dev/null; then return 0; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1)
PY
    sleep 0.2
  done
  echo "$1 did not become ready at $2" >&2
  return 1
}

# Two services talk to each other as real OAuth clients: account deletion reaches the
# tasks-service with `tasks:purge`, and the tasks-service reads the revocation feed with
# `revocations:read`. Each client's credentials are made once, on the first run, and kept
# (mode 600) beside the SQLite files.
mkdir -p data
client_env() { # file name scope id_variable secret_variable
  if [ ! -s "$1" ]; then
    created=$("$bin_dir/auth-service" clients create --name "$2" --scope "$3")
    client_id=$(printf '%s\n' "$created" | sed -n 's/^client_id: *//p')
    client_secret=$(printf '%s\n' "$created" | sed -n 's/^client_secret: *//p')
    (umask 077 && printf '%s=%s\n%s=%s\n' "$4" "$client_id" "$5" "$client_secret" >"$1")
  fi
  set -a
  # shellcheck disable=SC1090
  . "$1"
  set +a
}
client_env data/purge-client.env "account purger (make run)" tasks:purge \
  AUTH__PURGE__CLIENT_ID AUTH__PURGE__CLIENT_SECRET
client_env data/feed-client.env "revocation follower (make run)" revocations:read \
  TASKS__AUTH__FEED_CLIENT_ID TASKS__AUTH__FEED_CLIENT_SECRET
export AUTH__PURGE__TASKS_URL=${AUTH__PURGE__TASKS_URL:-http://127.0.0.1:$tasks_port}
# The app's pages come from its own origin: they may use the refresh cookie.
export AUTH__HTTP__ALLOWED_ORIGINS=${AUTH__HTTP__ALLOWED_ORIGINS:-$web_url}

"$bin_dir/auth-service" &
pids+=($!)
wait_ready auth-service "http://127.0.0.1:$auth_port/readyz"
"$bin_dir/tasks-service" &
pids+=($!)
wait_ready tasks-service "http://127.0.0.1:$tasks_port/readyz"

(cd web && TASKGATE_AUTH_URL=http://127.0.0.1:$auth_port \
  TASKGATE_TASKS_URL=http://127.0.0.1:$tasks_port TASKGATE_WEB_PORT=$web_port \
  exec npx vite --logLevel warn) &
pids+=($!)
wait_ready app "$web_url/"

cat <<MSG

  Taskgate is running. Open $web_url

  (The APIs answer there too, by path; directly: auth-service http://127.0.0.1:$auth_port,
  tasks-service http://127.0.0.1:$tasks_port. SQLite files under ./data/.)
  Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
