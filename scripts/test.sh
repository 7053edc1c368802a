#!/usr/bin/env bash
# Runs every test of tclocal: formatting and lints, the Rust tests, then the official-SDK
# compatibility suites (Python, Node.js, Go, Java), an OpenTofu run (compat/terraform) and the
# dashboard's browser test against a real `tclocal serve` on loopback.
# It installs what the suites need into .cache/ (nothing global), so it works on a new
# machine. This is the test command README.md shows, and the one .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (with a throwaway PostgreSQL for the PostgreSQL store's tests)"
# scripts/postgres.sh sets TCLOCAL_TEST_POSTGRES_URL for the command and stops the server after
# it; when PostgreSQL cannot be installed or started it says so and the PostgreSQL tests skip.
scripts/postgres.sh cargo test --workspace --locked

step "build the tclocal binary for the compatibility suites"
cargo build -p tclocal --locked
export TCLOCAL_BIN="${TCLOCAL_BIN:-$PWD/target/debug/tclocal}"

step "generated SDK code is up to date"
cargo run -q -p xtask --locked -- codegen --check

step "compatibility matrix in README.md matches the pinned versions"
python3 -B -m unittest discover -s scripts -p 'test_*.py'
python3 -B scripts/compat_matrix.py check

step "benchmark smoke run (seconds; no targets asserted)"
scripts/bench-smoke.sh

step "official SDK compatibility suites"
# Under a throwaway PostgreSQL, for the suites' shared-database tests.
scripts/postgres.sh scripts/compat.sh

step "OpenTofu with a stand-in Tencent Cloud provider against tclocal (compat/terraform; first build ~15 min)"
scripts/terraform.sh

step "dashboard in a real headless Chromium"
scripts/browser.sh

printf '\nall tests passed\n'
