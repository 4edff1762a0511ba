# Taskgate: `make run` starts both services on SQLite; `make test` runs every test.
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

fmt:
	cargo fmt --all

build:
	cargo build --workspace
