#!/usr/bin/env bash
# End-to-end benchmark: porto-sim with N containers, porto-exporter (release build), K scrapes over
# HTTP without and with gzip as Prometheus 2.x asks, and the floor (a bare PortoWire client sending
# the same requests and receiving the answers' bytes, nothing decoded) measured in the same run.
# See BENCHMARKS.md.
#
#   dev/bench-e2e.sh [N] [K] [options of dev/bench-e2e.py...]    (defaults: N=1000, K=100)
#
# Environment: BENCH_CONFIG=debug builds in debug mode (for a quick smoke, figures meaningless);
# BENCH_NO_FLOOR=1 skips building and running the floor client; BENCH_BIN=DIR runs the porto-exporter
# and porto-sim already in DIR instead of building them (dev/ci.d/40-bench-smoke: .ci/run's build);
# BASE_REV=REV also builds the exporter at REV (in a temporary git worktree, as
# dev/bench-concurrent.sh does) and measures it in the same run, for before/after figures;
# BASELINE=binary uses that exporter build instead.
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
baseline_args=()
baseline=${BASELINE:-}
if [[ -z "$baseline" && -n "${BASE_REV:-}" ]]; then
    work=$(mktemp -d /tmp/porto-bench-e2e.XXXXXX)
    trap 'git worktree remove --force "$work/base" 2>/dev/null || true; rm -rf "$work"' EXIT
    echo "building porto-exporter at $BASE_REV ($config, temporary worktree)..." >&2
    git worktree add --detach "$work/base" "$BASE_REV" >&2
    base_build=(-c "$config")
    [[ "$config" == release ]] && base_build+=(--static-swift-stdlib)
    (cd "$work/base" && swift build "${base_build[@]}" --product porto-exporter >&2)
    cp "$(cd "$work/base" && swift build "${base_build[@]}" --show-bin-path)/porto-exporter" "$work/porto-exporter-before"
    baseline=$work/porto-exporter-before
fi
[[ -n "$baseline" ]] && baseline_args=(--baseline-exporter "$baseline")
floor_args=()
if [[ -z "${BENCH_NO_FLOOR:-}" ]]; then
    echo "building porto-floor ($config)..." >&2
    swift build --package-path Benchmarks -c "$config" --product porto-floor >&2
    floor_args=(--floor "$(swift build --package-path Benchmarks -c "$config" --show-bin-path)/porto-floor")
fi
python3 dev/bench-e2e.py --sim "$bin/porto-sim" --exporter "$bin/porto-exporter" "${floor_args[@]}" "${baseline_args[@]}" \
    --containers "$containers" --scrapes "$scrapes" "$@"
