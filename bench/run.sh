#!/bin/sh
# Runs the flow-edge benchmarks (engine vs Python reference vs dd/cp) and
# writes the table to bench/out/results.md. Extra arguments go to the bench,
# e.g. `bench/run.sh --sizes 10000,100000 --runs 1`.
set -eu
cd "$(dirname "$0")/.."
mkdir -p bench/out
exec cargo run --release -p flow-edge-bench --bin flow-edge-bench -- --markdown bench/out/results.md "$@"
