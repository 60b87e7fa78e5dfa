#!/usr/bin/env python3
"""What a lagging reader costs when scrapes share a rendering (BENCHMARKS.md, "Concurrent scrapes").

    python3 dev/bench-lagging-reader.py PORTO_SIM PORTO_EXPORTER [CONTAINERS]   (default 10000)

Starts porto-sim and the exporter, takes 5 sequential gzip scrapes (RSS and peak), then three
times: a client that asks for a gzip scrape and does not read it (a 4 KB receive buffer) while
another scrape of the same collection reads its answer in full; prints the exporter's RSS while
the first one stalls (it keeps the chunks it has not sent), after it leaves, and the peak (VmHWM).
"""
import os, shutil, socket, subprocess, sys, tempfile, time, urllib.request
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from processes import free_port, start_sim, status_kib
sim, binary = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
work = tempfile.mkdtemp(prefix="porto-lagging.")
sock = work + "/p.sock"
simp = start_sim(sim, sock, "--containers", n)
port = free_port()
exp = subprocess.Popen([binary, "--porto.socket", sock, "--web.listen-address", f"127.0.0.1:{port}", "--log.level", "warn"])
url = f"http://127.0.0.1:{port}/metrics"
def st(k):
    return status_kib(exp.pid, k)[k]
def scrape():
    return urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "gzip"}), timeout=60).read()
try:
    time.sleep(1)
    for _ in range(5): body = scrape()
    time.sleep(0.5)
    print(f"{n} containers, gzip body {len(body)/1e6:.2f} MB; after 5 sequential scrapes: RSS {st('VmRSS')/1024:.1f} MB, peak {st('VmHWM')/1024:.1f} MB")
    peak0 = st("VmHWM")
    for _ in range(3):
        lag = socket.create_connection(("127.0.0.1", port))
        lag.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        lag.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        full = scrape()   # joins the same collection, reads everything
        time.sleep(0.3)
        held = st("VmRSS")
        lag.close()
        time.sleep(0.5)
        print(f"  one stalled + one full reader of a collection: RSS while stalled {held/1024:.1f} MB, after it left {st('VmRSS')/1024:.1f} MB, peak {st('VmHWM')/1024:.1f} MB")
    print(f"peak growth over sequential scrapes: {(st('VmHWM') - peak0)/1024:.1f} MB")
finally:
    exp.terminate(); exp.wait(); simp.terminate(); simp.wait()
    shutil.rmtree(work, ignore_errors=True)
