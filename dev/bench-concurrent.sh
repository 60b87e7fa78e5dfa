#!/usr/bin/env bash
# Concurrent scrapes, before vs after, in one run: porto-sim with N containers, then each exporter
# binary in turn under wrk (C connections, S seconds, as Prometheus asks: OpenMetrics + gzip),
# alternating the binaries for R rounds so that the machine's load falls on both alike. Prints
# answers/s, latency p50/p99, non-2xx answers, collections (porto-sim's ListContainersBy count),
# exporter CPU per answer, and RSS (peak VmHWM; 1 s after the burst; steady, i.e. after 5 sequential
# scrapes that follow it) for each run.
#
#   dev/bench-concurrent.sh [BASE_REV]      (default BASE_REV: main)
#
# The "after" binary is this tree's release build; the "before" binary is built from BASE_REV in
# a temporary git worktree (slow: a second release build), or taken from BEFORE=path.
# Environment: CONTAINERS (1000), CONNECTIONS (64), SECONDS_PER_RUN (30), ROUNDS (2),
# BEFORE, AFTER, PORTO_SIM (binaries to use instead of building them).
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-main}
: "${CONTAINERS:=1000}" "${CONNECTIONS:=64}" "${SECONDS_PER_RUN:=30}" "${ROUNDS:=2}"
command -v wrk >/dev/null || { echo "bench-concurrent: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

build=(-c release --static-swift-stdlib)   # as dev/run.sh and the Dockerfile build it
bin=$(swift build "${build[@]}" --show-bin-path)
after=${AFTER:-}
if [ -z "$after" ]; then
  echo "==> building porto-exporter (this tree, release)" >&2
  swift build "${build[@]}" --product porto-exporter >&2
  after=$bin/porto-exporter
fi
sim=${PORTO_SIM:-}
if [ -z "$sim" ]; then
  swift build "${build[@]}" --product porto-sim >&2
  sim=$bin/porto-sim
fi
before=${BEFORE:-}
worktree=''
work=$(mktemp -d /tmp/porto-bench-concurrent.XXXXXX)
cleanup() {
  [ -n "$worktree" ] && git worktree remove --force "$worktree" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "$before" ]; then
  worktree=$work/base
  echo "==> building porto-exporter at $base (release, temporary worktree)" >&2
  git worktree add --detach "$worktree" "$base" >&2
  (cd "$worktree" && swift build "${build[@]}" --product porto-exporter >&2)
  before=$(cd "$worktree" && swift build "${build[@]}" --show-bin-path)/porto-exporter
  cp "$before" "$work/porto-exporter-before"
  before=$work/porto-exporter-before
fi

python3 - "$sim" "$before" "$after" "$CONTAINERS" "$CONNECTIONS" "$SECONDS_PER_RUN" "$ROUNDS" "$work" <<'EOF'
import json, os, re, signal, socket, statistics, subprocess, sys, time, urllib.request
sys.path.insert(0, "dev/lib")
from processes import cpu_seconds as cpu, free_port, start_sim, status_kib
sim, before, after, containers, connections, seconds, rounds, work = sys.argv[1:]
containers, connections, seconds, rounds = int(containers), int(connections), int(seconds), int(rounds)

def status(pid, key):
    return status_kib(pid, key)[key]

def lcb_count(stats):
    try:
        with open(stats) as f:
            return json.load(f)["requests"].get("ListContainersBy", 0)
    except (OSError, ValueError):
        return 0

def seconds_of(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m.group(2)]

socket_path = os.path.join(work, "portod.socket")
stats = os.path.join(work, "stats.json")
simp = start_sim(sim, socket_path, "--containers", containers, "--stats-file", stats, log_path=os.path.join(work, "sim.log"))
try:
    rows = []
    for r in range(rounds):
        for label, binary in (("before", before), ("after", after)):
            port = free_port()
            url = f"http://127.0.0.1:{port}/metrics"
            exp = subprocess.Popen([binary, "--porto.socket", socket_path, "--web.listen-address", f"127.0.0.1:{port}",
                                    "--web.max-requests", str(connections * 2), "--log.level", "warn"],
                                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"exporter-{label}.log"), "a"))
            try:
                for _ in range(300):
                    try:
                        if b"porto_up 1" in urllib.request.urlopen(url, timeout=5).read(): break
                    except OSError:
                        pass
                    time.sleep(0.1)
                for _ in range(5): urllib.request.urlopen(url, timeout=10).read()   # warm-up
                cpu0, lcb0 = cpu(exp.pid), lcb_count(stats)
                out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "15s",
                                      "-H", "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
                                      "-H", "Accept-Encoding: gzip", url], capture_output=True, text=True, check=True).stdout
                cpu1, lcb1 = cpu(exp.pid), lcb_count(stats)
                peak = status(exp.pid, "VmHWM")
                time.sleep(1)
                burst = status(exp.pid, "VmRSS")   # after the burst, before any other scrape
                # Steady: between sequential scrapes, as Prometheus leaves them (as dev/soak.sh
                # and dev/footprint.sh measure it).
                for _ in range(5): urllib.request.urlopen(url, timeout=10).read()
                time.sleep(0.3)
                steady = status(exp.pid, "VmRSS")
            finally:
                exp.send_signal(signal.SIGTERM); exp.wait(timeout=30)
            if "Latency Distribution" not in out:
                sys.exit(f"bench-concurrent: unexpected wrk output for {label}:\n{out}")
            requests = int(re.search(r"(\d+) requests in", out).group(1))
            rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            lat = dict(re.findall(r"^ +(50|99)% +(\S+) *$", out, re.M))
            non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
            errors = (re.search(r"Socket errors: .*", out) or [""])[0]
            rows.append(dict(label=label, round=r + 1, requests=requests, rate=rate, p50=seconds_of(lat["50"]),
                             p99=seconds_of(lat["99"]), non2xx=non2xx, errors=errors, collections=lcb1 - lcb0,
                             cpu=(cpu1 - cpu0) / max(requests, 1), peak=peak, burst=burst, steady=steady))
            x = rows[-1]
            print(f"round {x['round']} {label:6}: {x['rate']:7.1f} answers/s ({x['requests']} in {seconds} s), p50 {x['p50']*1000:7.0f} ms, "
                  f"p99 {x['p99']*1000:7.0f} ms, non-2xx {x['non2xx']}{', ' + errors if errors else ''}, collections {x['collections']}, "
                  f"CPU {x['cpu']*1000:.1f} ms/answer, RSS peak {x['peak']/1024:.1f} MB, 1 s after {x['burst']/1024:.1f} MB, steady {x['steady']/1024:.1f} MB", flush=True)
    print(f"\n{containers} containers, wrk {connections} connections, {seconds} s per run, {rounds} round(s) alternating; medians:")
    med = {}
    for label in ("before", "after"):
        xs = [x for x in rows if x["label"] == label]
        med[label] = {k: statistics.median(x[k] for x in xs) for k in ("rate", "p50", "p99", "cpu", "steady", "burst", "peak", "collections")}
        m = med[label]
        print(f"  {label:6}: {m['rate']:7.1f} answers/s, p50 {m['p50']*1000:6.0f} ms, p99 {m['p99']*1000:6.0f} ms, "
              f"CPU {m['cpu']*1000:5.1f} ms/answer, collections {m['collections']:.0f}, RSS peak {m['peak']/1024:.1f} MB, "
              f"1 s after {m['burst']/1024:.1f} MB, steady {m['steady']/1024:.1f} MB")
    print(f"  after/before: answers/s x{med['after']['rate']/med['before']['rate']:.2f}, "
          f"p99 x{med['after']['p99']/med['before']['p99']:.2f}, CPU per answer x{med['after']['cpu']/med['before']['cpu']:.2f}")
    if any(x["non2xx"] or x["errors"] for x in rows if x["label"] == "after"):
        print("bench-concurrent: the new build gave non-2xx answers or socket errors", file=sys.stderr)
        sys.exit(1)
finally:
    simp.send_signal(signal.SIGTERM); simp.wait(timeout=30)
EOF
