#!/usr/bin/env bash
# A seconds-long run of the benchmark's code paths (tclocal, the floor, the load generator, the
# report), so it never rots: small account, 1-second windows, debug builds, no targets asserted.
# Fails only if a request fails or a server does not start. moto is left out (the full run,
# bench/run, installs and measures it).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p tclocal -p tclocal-bench
timeout 120 target/debug/tclocal-bench smoke --tclocal target/debug/tclocal
