#!/usr/bin/env bash
# The browser app's npm packages, installed from web/package-lock.json when web/node_modules
# is missing (make run, make test and make lint call this first).
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ ! -d node_modules ]; then
  echo "==> web: npm ci"
  npm ci --no-audit --no-fund
fi
