#!/usr/bin/env bash
# porto-exporter links no Foundation (swift-corelibs-foundation and its CoreFoundation), only the
# FoundationEssentials its dependencies use: Foundation's code and start-up cost about 3.4 MB of
# resident memory, and the target is 20 MB at 100 containers (BENCHMARKS.md, memory).
#
#   dev/ci.d/25-no-foundation.sh [BINARY ...]   default: the debug porto-exporter (dev/ci-bin.sh);
#                                               give a release one to check it too
#
# Each of these fails when someone adds `import Foundation` back:
# 1. no source file of PortoWire, PortoExporter or porto-exporter imports Foundation (or
#    CoreFoundation, FoundationNetworking, FoundationXML, FoundationInternationalization);
# 2. the binary does not load libFoundation.so or libCoreFoundation (a dynamically linked runtime);
# 3. the binary neither defines nor references a Foundation or CoreFoundation symbol (`$s10Foundation`,
#    `__CFInitialize`, `CFRunLoop`), which also holds for a --static-swift-stdlib build.
# Check 3 is first run on a small program that does import Foundation: it must find the symbols there.
set -euo pipefail
cd "$(dirname "$0")/../.."

failed=0
fail() { echo "no-foundation: $*" >&2; failed=1; }

# 1. Sources.
forbidden='^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]+((typealias|struct|class|enum|protocol|let|var|func)[[:space:]]+)?(Foundation|CoreFoundation|FoundationNetworking|FoundationXML|FoundationInternationalization)([[:space:]]|\.|$)'
if grep -rnE "$forbidden" Sources/PortoWire Sources/PortoExporter Sources/porto-exporter; then
  fail "the lines above import Foundation; use FoundationEssentials, Glibc or Synchronization's Mutex"
fi

work=$(mktemp -d /tmp/porto-no-foundation.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Foundation or CoreFoundation symbols of BINARY, defined or referenced, on standard output.
foundation_symbols() {
  { nm "$1" 2>/dev/null || true; nm -D "$1" 2>/dev/null || true; } >"$work/symbols"
  grep -E '10Foundation|(^|[[:space:]])_?__CFInitialize$|CFRunLoop' "$work/symbols" | head -n 5 || true
}

# 3, first on a program that must show it.
cat >"$work/control.swift" <<'SWIFT'
import Foundation
let lock = NSLock()
lock.lock()
print(ProcessInfo.processInfo.processIdentifier)
lock.unlock()
SWIFT
swiftc -o "$work/control" "$work/control.swift"
[ -n "$(foundation_symbols "$work/control")" ] || fail "the symbol check finds nothing in a program that imports Foundation: it cannot work"

if [ $# = 0 ]; then
  set -- "$(dev/ci-bin.sh)/porto-exporter"
fi
for binary in "$@"; do
  [ -x "$binary" ] || { fail "$binary is not an executable"; continue; }
  # 2. Shared libraries.
  if readelf -d "$binary" | grep -E 'NEEDED.*lib(Core)?Foundation(Networking|XML)?\.so'; then
    fail "$binary loads the shared libraries above"
  fi
  # 3. Symbols.
  symbols=$(foundation_symbols "$binary")
  if [ -n "$symbols" ]; then
    printf '%s\n' "$symbols" >&2
    fail "$binary defines or references Foundation symbols (first ones above)"
  fi
  [ "$failed" = 0 ] && echo "no-foundation: $binary: no Foundation or CoreFoundation (FoundationEssentials only)"
done
exit "$failed"
