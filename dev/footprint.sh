#!/usr/bin/env bash
# Memory footprint of porto-exporter binaries (the target: steady RSS at most 20 MB at 100 containers).
#
#   dev/footprint.sh [BINARY ...]     default: the release build, as dev/run.sh and the Dockerfile
#                                     make it (swift build -c release --static-swift-stdlib)
#
# For each binary: porto-sim with CONTAINERS (100) containers, the exporter against it, then prints
# VmRSS and its anonymous and file-backed parts (/proc/PID/status RssAnon, RssFile) idle (listening,
# no scrape yet) and one second after SCRAPES (300) sequential scrapes with gzip, as Prometheus asks, and the
# exporter's CPU time per scrape (user + system, from /proc/PID/stat) over those scrapes.
# PORTO_SIM overrides the porto-sim binary. Environment variables such as MALLOC_ARENA_MAX pass
# through to the exporter. BREAKDOWN=1 also prints, after the scrapes, the resident KiB of each
# mapped file (/proc/PID/smaps: the executable, each shared library, anonymous memory).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CONTAINERS:=100}" "${SCRAPES:=300}"

if [ $# = 0 ]; then
  swift build -c release --static-swift-stdlib --product porto-exporter >/dev/null
  set -- "$(swift build -c release --static-swift-stdlib --show-bin-path)/porto-exporter"
fi
sim=${PORTO_SIM:-}
if [ -z "$sim" ]; then
  swift build -c release --static-swift-stdlib --product porto-sim >/dev/null
  sim=$(swift build -c release --static-swift-stdlib --show-bin-path)/porto-sim
fi

. dev/lib/processes.sh
processes_init footprint

start_sim "$sim" --containers "$CONTAINERS"

memory() {  # VmRSS RssAnon RssFile of PID, in KiB
  # shellcheck disable=SC2046
  printf '%6d %6d %6d' $(status_kib "$1" VmRSS RssAnon RssFile)
}

printf '%-50s %-22s %-22s %s\n' "" "idle (KiB)" "after $SCRAPES scrapes" "CPU ms"
printf '%-50s %-22s %-22s %s\n' "binary ($CONTAINERS containers)" "  RSS   anon   file" "  RSS   anon   file" "/scrape"
for exporter in "$@"; do
  : >"$work/exporter.log"
  "$exporter" --porto.socket "$work/portod.socket" --web.listen-address 127.0.0.1:0 >"$work/exporter.log" 2>&1 &
  exporter_pid=$!
  port=$(wait_for_listening_port)
  sleep 1
  idle=$(memory "$exporter_pid")
  cpu_before=$(cpu_ticks "$exporter_pid")
  python3 - "$port" "$SCRAPES" <<'EOF'
import gzip, http.client, sys
port, scrapes = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for i in range(scrapes):
    conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"footprint: status {r.status}")
    if i == 0 and b"\nporto_up 1\n" not in gzip.decompress(body):
        sys.exit("footprint: the first scrape did not reach porto-sim (porto_up is not 1)")
EOF
  sleep 1   # steady means between scrapes, as Prometheus leaves 15 s between them
  steady=$(memory "$exporter_pid")
  if [ -n "${BREAKDOWN:-}" ]; then
    awk '/^[0-9a-f]+-[0-9a-f]+ / { n = split($6, p, "/"); file = NF >= 6 ? p[n] : "[anonymous]" }
         /^Rss:/ { rss[file] += $2 }
         END { for (f in rss) if (rss[f] > 0) printf "    %6d %s\n", rss[f], f }' "/proc/$exporter_pid/smaps" |
      sort -rn >"$work/breakdown"
  fi
  cpu_ms=$(( ($(cpu_ticks "$exporter_pid") - cpu_before) * 1000 / $(getconf CLK_TCK) ))
  printf '%-50s %-22s %-22s %s\n' "$exporter" "$idle" "$steady" "$(awk -v t="$cpu_ms" -v n="$SCRAPES" 'BEGIN { printf "%.2f", t / n }')"
  [ -n "${BREAKDOWN:-}" ] && cat "$work/breakdown"
  kill "$exporter_pid"; wait "$exporter_pid" 2>/dev/null || true
  exporter_pid=''
done
