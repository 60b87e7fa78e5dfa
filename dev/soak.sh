#!/usr/bin/env bash
# Load and soak test of porto-exporter against porto-sim. Results go to docs/LOAD.md.
#
#   dev/soak.sh                 full run: release build, 1,000 containers with churn, wrk with 64
#                               connections for 60 s, then 5,000 sequential scrapes
#   dev/soak.sh --quick         a cheap variant (debug build, 200 containers, wrk 10 s, 600 scrapes)
#
# Environment overrides: CONTAINERS, WRK_SECONDS, WRK_CONNECTIONS, SCRAPES, CONFIG (debug|release),
# PORTO_SIM and PORTO_EXPORTER (binaries to use instead of building them).
#
# It fails (exit 1) when any answer is not 2xx, when the exporter's RSS at the end differs from its
# RSS after warm-up by more than 10%, when its file descriptor count drifts, when a scrape holds
# more containers than porto-sim has (series of destroyed containers left behind), or when the
# exporter dies. Measurements are printed and written to .build-soak/result.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
[ "${1:-}" = --quick ] && quick=true
if $quick; then
  : "${CONTAINERS:=200}" "${WRK_SECONDS:=10}" "${WRK_CONNECTIONS:=16}" "${SCRAPES:=600}" "${CONFIG:=debug}"
else
  : "${CONTAINERS:=1000}" "${WRK_SECONDS:=60}" "${WRK_CONNECTIONS:=64}" "${SCRAPES:=5000}" "${CONFIG:=release}"
fi

command -v wrk >/dev/null || { echo "soak: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "soak: python3 is needed" >&2; exit 1; }

echo "==> building porto-exporter and porto-sim ($CONFIG)"
# A release build is made as dev/run.sh and the Dockerfile make it: Swift runtime linked in.
build=(-c "$CONFIG")
[ "$CONFIG" = release ] && build+=(--static-swift-stdlib)
bin=$(swift build "${build[@]}" --show-bin-path)
exporter=${PORTO_EXPORTER:-}
if [ -z "$exporter" ]; then
  swift build "${build[@]}" --product porto-exporter >/dev/null
  exporter=$bin/porto-exporter
fi
sim=${PORTO_SIM:-}
if [ -z "$sim" ]; then
  swift build "${build[@]}" --product porto-sim >/dev/null
  sim=$bin/porto-sim
fi

. dev/lib/processes.sh
processes_init soak
out=.build-soak
mkdir -p "$out"

port=$(free_port)
start_sim "$sim" --containers "$CONTAINERS" --churn --stats-file "$work/stats.json"

# --web.max-requests above the wrk connection count: this measures serving, not refusal.
"$exporter" --porto.socket "$work/portod.socket" --web.listen-address "127.0.0.1:$port" \
  --web.max-requests $((WRK_CONNECTIONS * 2)) --log.level warn >"$work/exporter.log" 2>&1 &
exporter_pid=$!
url="http://127.0.0.1:$port/metrics"
# Ready means a scrape has reached portod: scrape until one does.
for _ in $(seq 300); do curl -fsS "$url" 2>/dev/null | grep -q '^porto_up 1' && break; sleep 0.1; done
curl -fsS -o /dev/null "http://127.0.0.1:$port/-/ready" || { cat "$work/exporter.log"; echo "soak: exporter not ready" >&2; exit 1; }

echo "==> load: wrk, $WRK_CONNECTIONS connections, ${WRK_SECONDS}s, $CONTAINERS containers with churn"
cat >"$work/status.lua" <<'EOF'
-- Counts answers by status; wrk's own summary lumps 3xx with 2xx. `counts` is a global of each
-- thread, read back in done().
counts = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() counts = {} end
function response(status) counts[status] = (counts[status] or 0) + 1 end
function done()
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for s, n in pairs(c) do total[s] = (total[s] or 0) + n end
  end
  for s, n in pairs(total) do io.write(string.format("status %d %d\n", s, n)) end
end
EOF
wrk -t2 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency --timeout 15s -s "$work/status.lua" \
  -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' \
  -H 'Accept-Encoding: gzip' "$url" | tee "$out/wrk.txt"

echo "==> soak: $SCRAPES scrapes"
python3 - "$url" "$exporter_pid" "$SCRAPES" "$CONTAINERS" "$out" <<'EOF'
import gzip, http.client, os, re, sys, time, urllib.parse
sys.path.insert(0, "dev/lib")
from processes import open_fds, status_kib
url, pid, scrapes, containers, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
u = urllib.parse.urlparse(url)
name_re = re.compile(r'^porto_container_[a-z_]+\{(?:[^}]*,)?name="((?:[^"\\]|\\.)*)"', re.M)

def rss():
    return status_kib(pid, "VmRSS")["VmRSS"]
def hwm():
    return status_kib(pid, "VmHWM")["VmHWM"]
def fds():
    return open_fds(pid)

conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
bad, samples, seen, max_names, durations = 0, [], set(), 0, []
warm = max(1, scrapes // 10)
for i in range(1, scrapes + 1):
    t = time.monotonic()
    conn.request("GET", u.path, headers={"Accept-Encoding": "gzip"})
    r = conn.getresponse()
    body = r.read()
    durations.append(time.monotonic() - t)
    if r.status != 200:
        bad += 1
        continue
    if r.getheader("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    text = body.decode()
    if "porto_up 1" not in text:
        bad += 1
    names = set(name_re.findall(text))
    seen |= names
    max_names = max(max_names, len(names))
    # The baseline is the sample after warm-up (10% of the scrapes), as docs/LOAD.md says.
    if i == warm or (i > warm and i % max(1, scrapes // 20) == 0) or i == scrapes:
        # Between scrapes, as Prometheus leaves them: after each collection the exporter gives the
        # freed memory back (MallocArenas.trimAfterRelease) once no scrape is left in flight.
        time.sleep(0.3)
        samples.append((i, rss(), fds(), len(names)))
        # As it goes, so that a long run shows its progress (and a cut-short one its trend).
        print(f"  scrape {i}: rss {samples[-1][1]} KiB, fds {samples[-1][2]}, containers {samples[-1][3]}, at {time.strftime('%H:%M:%S')}", flush=True)
conn.close()

durations.sort()
base_rss, base_fds = samples[0][1], samples[0][2]
end_rss, end_fds = samples[-1][1], samples[-1][2]
drift = (end_rss - base_rss) / base_rss
lines = [
    f"scrapes {scrapes}, failed or not porto_up 1: {bad}",
    f"scrape latency p50 {durations[len(durations)//2]*1000:.1f} ms, p99 {durations[int(len(durations)*0.99)]*1000:.1f} ms, max {durations[-1]*1000:.1f} ms",
    f"RSS after warm-up (scrape {samples[0][0]}) {base_rss} KiB, at the end {end_rss} KiB, drift {drift*100:+.1f}%",
    f"peak RSS (VmHWM, over wrk and the soak) {hwm()} KiB",
    f"open fds after warm-up {base_fds}, at the end {end_fds}, max {max(s[2] for s in samples)}",
    f"containers per scrape: at most {max_names} (porto-sim serves {containers} + root); distinct names seen over the soak {len(seen)}",
    "samples (scrape, rss KiB, fds, containers): " + " ".join(f"{s[0]}:{s[1]}:{s[2]}:{s[3]}" for s in samples),
]
print("\n".join(lines))
with open(os.path.join(out, "soak.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
failures = []
if bad: failures.append(f"{bad} scrapes failed")
if abs(drift) > 0.10: failures.append(f"RSS drifted {drift*100:+.1f}% (limit 10%)")
if max(abs(s[2] - base_fds) for s in samples) > 2: failures.append(f"fds drifted from {base_fds} (samples above)")
if max_names > containers + 1: failures.append(f"a scrape held {max_names} containers: series of destroyed containers left behind")
if len(seen) <= max_names: failures.append("no churn was seen: the check of destroyed containers proved nothing")
if failures:
    print("soak FAILED: " + "; ".join(failures), file=sys.stderr)
    sys.exit(1)
EOF

non2xx=$(awk '$1 == "status" && ($2 < 200 || $2 > 299) { n += $3 } END { print n + 0 }' "$out/wrk.txt")
errors=$(grep -E 'Socket errors' "$out/wrk.txt" || true)
kill -0 "$exporter_pid" || { echo "soak: the exporter died" >&2; exit 1; }
{ cat "$out/wrk.txt"; cat "$out/soak.txt"; } >"$out/result.txt"
if [ "$non2xx" != 0 ] || [ -n "$errors" ]; then
  echo "soak FAILED: wrk saw $non2xx non-2xx answers ${errors:+($errors)}" >&2
  exit 1
fi
echo "soak passed (details in $out/result.txt)"
