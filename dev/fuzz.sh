#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (with AddressSanitizer) and runs one for a bounded time.
#
#   dev/fuzz.sh build                 build every target (Fuzz/Package.swift) into .build-fuzz/
#   dev/fuzz.sh list                  list the targets
#   dev/fuzz.sh TARGET SECONDS [ARGS] run TARGET for SECONDS on a scratch copy of its seed corpus
#                                     (Fuzz/Corpus/TARGET); extra ARGS go to libFuzzer (e.g. -runs=N)
#   dev/fuzz.sh TARGET replay FILE... run TARGET once on each FILE (a crash reproducer)
#
# New inputs that add coverage go to .build-fuzz/corpus/TARGET (not committed: merge the few that
# matter into Fuzz/Corpus/TARGET by hand). A crash leaves its input in .build-fuzz/artifacts/ and
# the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=.build-fuzz
# A Swift trap then reaches libFuzzer's deadly-signal handler, which prints the input and the stack;
# Swift's own backtracer reads memory AddressSanitizer poisons and buries the trap message.
export SWIFT_BACKTRACE=enable=no
bin="$scratch/debug"
targets() { sed -n 's/^ *name: "\(Fuzz[A-Za-z]*\)".*/\1/p' Fuzz/Package.swift; }

build() {
  # SwiftPM passes --sanitize values to swiftc as separate -sanitize= flags in a varying order and
  # the driver keeps only the last: a module then got AddressSanitizer without the fuzzer's coverage
  # counters (libFuzzer ran blind). The combined flag, appended after them, is the one kept.
  swift build --package-path Fuzz --scratch-path "$scratch" -c debug \
    --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 \
    | grep -v "Cannot export local symbol '__asan_" || true
  for t in $(targets); do
    [ -x "$bin/$t" ] || { echo "fuzz: $t was not built" >&2; exit 1; }
    readelf -SW "$bin/$t" | grep -q __sancov_cntrs \
      || { echo "fuzz: $t has no coverage counters (rm -rf $scratch and build again)" >&2; exit 1; }
  done
}

case "${1:-}" in
  build) build; exit 0 ;;
  list) targets; exit 0 ;;
  ""|-h|--help) sed -n '2,14p' "$0"; exit 2 ;;
esac

target=$1
targets | grep -qx "$target" || { echo "fuzz: unknown target $target (dev/fuzz.sh list)" >&2; exit 2; }
[ -x "$bin/$target" ] || build

if [ "${2:-}" = replay ]; then
  shift 2
  exec "$bin/$target" "$@"
fi

seconds=${2:?"usage: dev/fuzz.sh TARGET SECONDS [libFuzzer args]"}
shift 2
corpus="$scratch/corpus/$target"
artifacts="$scratch/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
seeds=Fuzz/Corpus/$target
[ -d "$seeds" ] || { echo "fuzz: no seed corpus $seeds" >&2; exit 1; }
dict=()
[ -f "Fuzz/$target.dict" ] && dict=(-dict="Fuzz/$target.dict")
# -rss_limit_mb bounds what one input may make the code allocate (a frame may announce 32 MiB);
# -timeout flags an input that takes longer than 10 s (a hang).
ASAN_OPTIONS=detect_leaks=0 "$bin/$target" "$corpus" "$seeds" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" "$@"
