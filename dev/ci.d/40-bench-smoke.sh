#!/usr/bin/env bash
# A short smoke of the end-to-end benchmark through dev/bench-e2e.sh, the command BENCHMARKS.md
# gives (debug binaries, 50 containers, no floor): the script keeps working, and portod sees one
# ListContainersBy and one GetSystem per collection, for sequential scrapes and for bursts of
# concurrent ones. Figures from it mean nothing (debug build).
set -euo pipefail
cd "$(dirname "$0")/../.."
# The binaries of .ci/run's debug build under it (dev/ci-bin.sh says why), built here when alone;
# BENCH_BIN tells the wrapper not to build them again.
bin="$(dev/ci-bin.sh)"
BENCH_BIN="$bin" BENCH_NO_FLOOR=1 timeout 600 bash dev/bench-e2e.sh 50 10 --bursts 3 --concurrency 3
