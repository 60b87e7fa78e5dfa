#!/usr/bin/env bash
# End-to-end benchmark: porto-sim with N containers, porto-exporter (release build), K scrapes over
# HTTP without and with gzip as Prometheus 2.x asks, and the floor (a bare PortoWire client doing
# the same requests) measured in the same run. See BENCHMARKS.md.
#
#   dev/bench-e2e.sh [N] [K] [options of dev/bench-e2e.py...]    (defaults: N=1000, K=100)
#
# Environment: BENCH_CONFIG=debug builds in debug mode (for a quick smoke, figures meaningless);
# BENCH_NO_FLOOR=1 skips building and running the floor client; BENCH_BIN=DIR runs the porto-exporter
# and porto-sim already in DIR instead of building them (dev/ci.d/40-bench-smoke: .ci/run's build).
set -euo pipefail
cd "$(dirname "$0")/.."
containers=${1:-1000}
scrapes=${2:-100}
shift $(( $# > 2 ? 2 : $# ))
config=${BENCH_CONFIG:-release}

if [[ -n "${BENCH_BIN:-}" ]]; then
    bin=$BENCH_BIN
else
    echo "building porto-exporter and porto-sim ($config)..." >&2
    build=(-c "$config")   # a release build as dev/run.sh and the Dockerfile make it (Swift runtime linked in)
    [[ "$config" == release ]] && build+=(--static-swift-stdlib)
    swift build "${build[@]}" --product porto-exporter >&2
    swift build "${build[@]}" --product porto-sim >&2
    bin=$(swift build "${build[@]}" --show-bin-path)
fi
floor_args=()
if [[ -z "${BENCH_NO_FLOOR:-}" ]]; then
    echo "building porto-floor ($config)..." >&2
    swift build --package-path Benchmarks -c "$config" --product porto-floor >&2
    floor_args=(--floor "$(swift build --package-path Benchmarks -c "$config" --show-bin-path)/porto-floor")
fi
exec python3 dev/bench-e2e.py --sim "$bin/porto-sim" --exporter "$bin/porto-exporter" "${floor_args[@]}" \
    --containers "$containers" --scrapes "$scrapes" "$@"
