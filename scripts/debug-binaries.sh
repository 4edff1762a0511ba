#!/usr/bin/env bash
# Builds the two service binaries (debug) and prints the folder that holds them, wherever
# CARGO_TARGET_DIR puts it. make run, schemathesis, the browser tests and the first-page
# measurement all start the services from there. Cargo's progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --bin auth-service --bin tasks-service >&2
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
echo "$target_dir/debug"
