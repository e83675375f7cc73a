# bptmig — common tasks. `make` alone lists them.
CARGO ?= cargo
# The sandbox servers' password: not a secret, but pipelines read every password from the
# environment, so the demo exports it like any other.
export BPTMIG_DEMO_PASSWORD ?= Sandbox-Only-1

.DEFAULT_GOAL := help
.PHONY: help demo sandbox scale test check fmt clippy doc bench

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

demo: ## Build, start sandbox prod and qa, run every stage of the demo pipeline and verify
	$(CARGO) build --workspace --bins
	scripts/demo.sh

scale: ## Build, start a 1,500-tree sandbox on ports 14341/14342, time check, run and verify, stop it
	$(CARGO) build --workspace --bins
	scripts/scale.sh

sandbox: ## Start sandbox prod (port 14331) and qa (14332) and serve until Ctrl-C
	$(CARGO) run --bin bptmig-sandbox -- up

test: ## Run every test (unit, integration against sandbox servers, CLI)
	$(CARGO) test --workspace --all-targets

fmt: ## Format the code
	$(CARGO) fmt --all

clippy: ## Lint (warnings are errors)
	$(CARGO) clippy --workspace --all-targets -- -D warnings

doc: ## Build the API docs; a broken intra-doc link or any other rustdoc warning is an error
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

check: ## What CI runs: formatting, lints, docs, tests
	$(CARGO) fmt --all -- --check
	$(MAKE) clippy
	$(MAKE) doc
	$(MAKE) test

bench: ## Benchmarks: extract criterion, load vs raw INSERT baseline, extract peak RSS, transform vs DuckDB
	$(CARGO) bench --workspace
	benches/extract_rss.sh
	benches/transform_duckdb.sh
