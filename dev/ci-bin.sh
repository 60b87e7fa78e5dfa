#!/usr/bin/env bash
# Prints the directory holding the debug porto-exporter and porto-sim that the dev/ci.d checks run.
#
# Under .ci/run it is the one `swift build --build-tests` has just filled (.ci/run exports PORTO_BIN):
# nothing is built again. Building them again by --product there would not be free: SwiftPM plans a
# product build apart from the --build-tests one and compiles the modules again (about 85 s in CI),
# and the next --build-tests compiles them back. A check run alone builds the two products here.
#
#   bin="$(dev/ci-bin.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${PORTO_BIN:-}" ]; then
  for product in porto-exporter porto-sim; do
    [ -x "$PORTO_BIN/$product" ] || { echo "ci-bin: PORTO_BIN=$PORTO_BIN has no $product" >&2; exit 1; }
  done
  echo "$PORTO_BIN"
  exit 0
fi
for product in porto-exporter porto-sim; do
  swift build --product "$product" 2>&1 | tail -n 3 >&2
done
swift build --show-bin-path
