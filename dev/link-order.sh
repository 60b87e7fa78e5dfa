#!/usr/bin/env bash
# Regenerates Sources/porto-exporter/link-order.txt, the functions the release exporter runs: those
# the scrapes run first, hottest first, then those only start-up ran. The link (Package.swift)
# places them in that order at the start of .text: the kernel maps 16 pages around each page a
# process touches in a cached file, so code run at start-up and on every scrape, scattered over
# 17 MB of .text, kept about 9 MB of it resident (BENCHMARKS.md, "Memory at 100 containers"); and
# once start-up's pages are dropped (StartupPages), only the scrapes' code comes back. Run it after
# large changes: a renamed or new function is only left out of the order (lld ignores names it
# does not find), which costs memory, never correctness.
#
#   dev/link-order.sh      needs valgrind (callgrind lists the functions that ran)
#
# What it runs: porto-sim with CONTAINERS (100) containers; the exporter under callgrind, started,
# scraped as Prometheus does (OpenMetrics and text, gzip and identity, HEAD), then stopped by SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CONTAINERS:=100}"
command -v valgrind >/dev/null || { echo "link-order: needs valgrind (apt-get install valgrind)" >&2; exit 1; }

swift build -c release --static-swift-stdlib --product porto-exporter >/dev/null
swift build -c release --static-swift-stdlib --product porto-sim >/dev/null
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)

. dev/lib/processes.sh
processes_init link-order

# valgrind 3.19 cannot read Swift 6.3's DWARF 5; the symbol table is all this needs.
cp "$bin/porto-exporter" "$work/porto-exporter"
strip --strip-debug "$work/porto-exporter"

start_sim "$bin/porto-sim" --containers "$CONTAINERS"

valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.out" \
  "$work/porto-exporter" --porto.socket "$work/portod.socket" --web.listen-address 127.0.0.1:0 \
  >"$work/exporter.log" 2>&1 &
exporter_pid=$!
port=$(wait_for_listening_port 1200)   # callgrind starts slowly
sleep 2
# What start-up ran goes to callgrind.out.1; the scrapes' counts start from zero.
callgrind_control --dump=start-up "$exporter_pid" >/dev/null 2>&1
for _ in $(seq 100); do [ -s "$work/callgrind.out.1" ] && break; sleep 0.1; done
[ -s "$work/callgrind.out.1" ] || { echo "link-order: callgrind did not dump start-up's counts" >&2; exit 1; }

python3 - "$port" <<'EOF'
import gzip, http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=300)
openmetrics = ("application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,"
               "text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
variants = [
    {"Accept": openmetrics, "Accept-Encoding": "gzip", "X-Prometheus-Scrape-Timeout-Seconds": "10"},
    {"Accept": openmetrics, "Accept-Encoding": "identity", "X-Prometheus-Scrape-Timeout-Seconds": "10"},
    {"Accept-Encoding": "gzip"},
    {},
]
for _ in range(8):
    for headers in variants:
        conn.request("GET", "/metrics", headers=headers)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            sys.exit(f"link-order: status {r.status}")
        if r.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if b"\nporto_up 1\n" not in body:
            sys.exit("link-order: a scrape did not reach porto-sim (porto_up is not 1)")
for method, path in (("HEAD", "/metrics"), ("GET", "/")):
    conn.request(method, path)
    r = conn.getresponse()
    r.read()
EOF
kill -TERM "$exporter_pid"
wait "$exporter_pid" || { cat "$work/exporter.log"; echo "link-order: the exporter did not exit 0 on SIGTERM" >&2; exit 1; }
exporter_pid=''

# Functions of the executable itself (not of the shared libraries), by instructions run in them:
# the scrapes' (the last dump), then start-up's alone (the first).
python3 - "$work/callgrind.out" "$work/callgrind.out.1" "$work/porto-exporter" >Sources/porto-exporter/link-order.txt <<'EOF'
import collections, re, sys

def functions(path, executable):
    names, objects, cost, object_of = {}, {}, collections.Counter(), {}
    function = obj = None
    after_calls = False
    pattern = re.compile(r"(c?ob|c?fn)=\((\d+)\)(?: (.*))?$")
    for line in open(path):
        m = pattern.match(line.rstrip("\n"))
        if m:
            kind, number, name = m.groups()
            table = objects if kind.endswith("ob") else names
            if name:
                table[number] = name
            if kind == "ob":
                obj = objects[number]
            elif kind == "fn":
                function = names[number]
                object_of.setdefault(function, obj)
        elif function and not after_calls and (line[:1].isdigit() or line[:1] in "+-*"):
            fields = line.split()
            if len(fields) >= 2:
                cost[function] += int(fields[1])
        after_calls = line.startswith("calls=")
    order = {}
    for function, obj in object_of.items():
        name = function.split("'")[0]           # callgrind marks recursion levels as NAME'2
        if obj == executable and not name.startswith("0x") and cost[function] > 0:
            order[name] = order.get(name, 0) + cost[function]
    return order

scrapes = functions(sys.argv[1], sys.argv[3])
start_up = functions(sys.argv[2], sys.argv[3])
for name in sorted(scrapes, key=lambda n: (-scrapes[n], n)):
    print(name)
for name in sorted(set(start_up) - set(scrapes), key=lambda n: (-start_up[n], n)):
    print(name)
EOF
echo "link-order: $(wc -l <Sources/porto-exporter/link-order.txt) functions in Sources/porto-exporter/link-order.txt"
# The link does not list the order file among its inputs: remove the binary so the next build links it.
rm -f "$bin/porto-exporter"
