#!/usr/bin/env bash
# The exposition checked by real parsers: `promtool check metrics` (parse and lint) on the golden
# text scrapes of porto-sim (Tests/PortoExporterTests/Fixtures) and on a live `porto-exporter --once`
# against the porto-sim executable (every group on); the OpenMetrics golden and a live OpenMetrics
# scrape parsed by prometheus_client's OpenMetrics parser; `--once` against a missing socket
# failing with one line on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v promtool >/dev/null || { echo "promtool missing (Debian package prometheus, dev/apt-packages.txt)" >&2; exit 1; }
python3 -c 'import prometheus_client' || { echo "prometheus_client missing (dev/pip-packages.txt)" >&2; exit 1; }

fixtures=Tests/PortoExporterTests/Fixtures
. dev/lib/processes.sh
processes_init exposition   # $work, removed on exit with porto-sim stopped

check_text() {  # promtool reads the text format on stdin; lint problems are failures too
  echo "promtool check metrics $1"
  promtool check metrics < "$1"
}

check_openmetrics() {
  echo "OpenMetrics parser: $1"
  python3 - "$1" <<'PY'
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
text = open(sys.argv[1], encoding="utf-8").read()
families = list(text_string_to_metric_families(text))
samples = sum(len(f.samples) for f in families)
names = [f.name for f in families]
assert names == sorted(names), "families not sorted"
assert samples > 0, "no samples"
print(f"  {len(families)} families, {samples} samples")
PY
}

check_text "$fixtures/golden-scrape.txt"
check_text "$fixtures/golden-failure.txt"
check_openmetrics "$fixtures/golden-scrape.om.txt"

bin="$(dev/ci-bin.sh)"   # .ci/run's debug build, or built here when run alone

# --once without portod: non-zero exit, one line on stderr, nothing on stdout.
if "$bin/porto-exporter" --once --porto.socket "$work/missing.socket" >"$work/out" 2>"$work/err"; then
  echo "--once succeeded without portod" >&2; exit 1
fi
[ "$(wc -l <"$work/err")" -eq 1 ] || { echo "--once error is not one line:" >&2; cat "$work/err" >&2; exit 1; }
[ ! -s "$work/out" ] || { echo "--once printed to stdout without portod" >&2; exit 1; }
echo "--once without portod: $(cat "$work/err")"

# --once against porto-sim, every group on, in both formats.
start_sim "$bin/porto-sim" --containers 200 --seed 7
all=(--collector.vm '--container.labels=*')
"$bin/porto-exporter" --once --porto.socket "$work/portod.socket" "${all[@]}" > "$work/once.txt"
"$bin/porto-exporter" --once --format openmetrics --porto.socket "$work/portod.socket" "${all[@]}" > "$work/once.om.txt"
grep -qx 'porto_up 1' "$work/once.txt" || { echo "porto_up is not 1" >&2; exit 1; }
check_text "$work/once.txt"
check_openmetrics "$work/once.om.txt"
