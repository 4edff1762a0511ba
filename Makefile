# Taskgate: `make run` starts both services on SQLite; `make test` runs every test.
.PHONY: run test lint fmt build

run:
	@scripts/run-local.sh

test:
	@scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

build:
	cargo build --workspace
