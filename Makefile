# Taskgate: `make run` starts both services on SQLite and the browser app; `make test` runs every test.
.PHONY: run test lint fmt build bench

run:
	@scripts/run-local.sh

test:
	@scripts/test.sh

# Load test on Postgres + token-verification micro-benchmark (BENCH_QUICK=1 for a smoke run).
bench:
	@scripts/bench.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	@scripts/web-deps.sh
	cd web && npm run lint --silent

fmt:
	cargo fmt --all

build:
	cargo build --workspace
