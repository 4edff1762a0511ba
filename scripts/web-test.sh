#!/usr/bin/env bash
# The browser app's tests (`make test` runs this after the services' tests): Vitest unit tests
# of web/src, then the end-to-end suite (web/e2e) driving Debian's Chromium against the real
# services, started fresh on SQLite. docs/tests.md explains both.
#
# Without Chromium, outside CI, the end-to-end suite is skipped and says so; with CI=true that
# is an error (.ci/run installs the `chromium` package).
set -euo pipefail
cd "$(dirname "$0")/.."
ci=${CI:-}

scripts/web-deps.sh

echo "==> web: unit tests (Vitest)"
(cd web && npm test --silent)

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  if [ "$ci" = "true" ]; then
    echo "CI=true but there is no Chromium at $chromium: the end-to-end suite is mandatory" >&2
    exit 1
  fi
  echo "==> web: end-to-end suite SKIPPED (no Chromium at $chromium; apt-get install chromium)"
  exit 0
fi

bin_dir=$(scripts/debug-binaries.sh)
echo "==> web: end-to-end suite (Chromium, the real services on SQLite)"
(cd web && CHROMIUM=$chromium TASKGATE_BIN_DIR=$bin_dir npm run e2e --silent)
