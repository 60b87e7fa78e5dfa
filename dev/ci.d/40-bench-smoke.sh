#!/usr/bin/env bash
# A short smoke of the end-to-end benchmark (debug build, 50 containers, no floor): the script
# keeps working, and portod sees one ListContainersBy and one GetSystem per collection, for
# sequential scrapes and for bursts of concurrent ones. Figures from it mean nothing (debug build).
set -euo pipefail
cd "$(dirname "$0")/../.."
# Under .ci/run, the binaries of its debug build (dev/ci-bin.sh says why), given straight to
# dev/bench-e2e.py; alone, dev/bench-e2e.sh builds them.
if [ -n "${PORTO_BIN:-}" ]; then
  bin="$(dev/ci-bin.sh)"
  timeout 600 python3 dev/bench-e2e.py --sim "$bin/porto-sim" --exporter "$bin/porto-exporter" \
    --containers 50 --scrapes 10 --bursts 3 --concurrency 3
else
  BENCH_CONFIG=debug BENCH_NO_FLOOR=1 timeout 600 bash dev/bench-e2e.sh 50 10 --bursts 3 --concurrency 3
fi
