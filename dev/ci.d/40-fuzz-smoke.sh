#!/usr/bin/env bash
# Fuzz smoke: builds every libFuzzer target in Fuzz/ with AddressSanitizer, replays its committed
# seed corpus (Fuzz/Corpus/TARGET) and fuzzes it for FUZZ_SMOKE_SECONDS (default 20). A target
# built without coverage instrumentation, any crash, sanitizer report, timeout (one input over
# 10 s) or out-of-memory fails the check.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SMOKE_SECONDS:-20}

dev/fuzz.sh build
targets=$(dev/fuzz.sh list)
[ -n "$targets" ] || { echo "fuzz smoke: no targets found in Fuzz/Package.swift" >&2; exit 1; }
for target in $targets; do
  seeds=$(find "Fuzz/Corpus/$target" -type f | wc -l)
  [ "$seeds" -gt 0 ] || { echo "fuzz smoke: $target has no seed corpus" >&2; exit 1; }
  echo "--- $target: $seeds seeds, ${seconds}s"
  log=$(mktemp)
  if ! dev/fuzz.sh "$target" "$seconds" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz smoke: $target FAILED (reproducer in .build-fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  # Without coverage counters libFuzzer runs blind and finds nothing: a smoke that cannot fail.
  if ! grep -q 'inline 8-bit counters' "$log"; then
    head -n 20 "$log"
    echo "fuzz smoke: $target is not instrumented for coverage (a stale incremental build? rm -rf .build-fuzz)" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^Done' "$log" || true
  rm -f "$log"
done
echo "fuzz smoke: all targets ran ${seconds}s without a crash"
