#!/usr/bin/env python3
"""End-to-end benchmark of porto-exporter against porto-sim, with the floor measured in the same run.

Started by dev/bench-e2e.sh (which builds the binaries); see BENCHMARKS.md. It:
  1. starts porto-sim with N containers (--stats-file, --control) and the exporter;
  2. scrapes K times over one keep-alive connection as Prometheus 2.x does, without gzip
     (Accept-Encoding: identity, Prometheus' enable_compression: false) and with gzip, reporting
     latency (median, p99), exporter CPU seconds per scrape (/proc/PID/stat utime+stime deltas),
     RSS (VmRSS steady, VmHWM peak, RssAnon's peak sampled every 2 ms), bytes sent and series, and porto-sim's CPU per scrape over the
     same phase, flagged ("porto-sim NOT well below") when it is not under SIM_CPU_SHARE of the
     exporter's: then porto-sim, not the exporter, may be what the figures measure; and the CPU the
     same requests would cost portod, as porto-sim models it from measured figures (its stats'
     portod_cpu_ns_modelled): "portod CPU per scrape (modelled)";
     The exporter's CPU is also given per series and per MB of exposition written;
  3. runs porto-floor: a bare PortoWire client sending the requests of the exporter's default
     collectors K times (learnt from collections against the same porto-sim, ListProperties once
     per connection left out as the exporter leaves it out) and receiving the answers' bytes
     (envelope checked, nothing decoded), its CPU per iteration; its requests per iteration must
     be the exporter's per scrape;
  With --baseline-exporter (dev/bench-e2e.sh BASE_REV=...), a second exporter build scrapes the
  same porto-sim in the same run, phase by phase in alternation, for before/after figures.
  4. checks porto-sim's request counts: one ListContainersBy and one GetSystem per collection,
     K sequential scrapes giving K collections, and bursts of concurrent scrapes sharing one.
Exits non-zero when a check fails (targets are reported, not enforced, unless --enforce-targets).
"""
import argparse
import gzip
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import simcontrol  # dev/simcontrol.py (the script's folder is on sys.path)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from processes import cpu_seconds, free_port, start_sim, status_kib  # noqa: E402 (dev/lib/processes.py)

# What Prometheus 2.x sends (scrape.go: acceptHeader for the default scrape protocols, and
# Accept-Encoding gzip, or identity when enable_compression is false).
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0;q=0.5,"
                     "application/openmetrics-text;version=0.0.1;q=0.4,"
                     "text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
# porto-sim's CPU per scrape is "well below" the exporter's under this share of it.
SIM_CPU_SHARE = 0.25


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


class AnonPeak(threading.Thread):
    """The largest RssAnon of a process, read from /proc/PID/status every `interval` seconds: VmHWM
    also counts file pages (code, libraries), which a process can drop without using less memory;
    anonymous memory (heap, stacks, buffers) is what its work costs. Sampled, so a lower bound."""

    def __init__(self, pid, interval=0.002):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self.done = threading.Event()

    def run(self):
        try:
            with open(f"/proc/{self.pid}/status", "rb", buffering=0) as f:
                while not self.done.is_set():
                    f.seek(0)
                    text = f.read(8192)
                    at = text.find(b"RssAnon:")
                    if at >= 0:
                        self.peak_kib = max(self.peak_kib, int(text[at + 8:text.index(b"kB", at)]))
                    time.sleep(self.interval)
        except (OSError, ValueError):
            pass   # the process ended

    def stop(self):
        self.done.set()
        self.join(5)
        return self.peak_kib / 1024


def read_stats(path):
    """Requests per method, and portod's modelled CPU in nanoseconds per method."""
    with open(path) as f:
        stats = json.load(f)
    return stats.get("requests", {}), stats.get("portod_cpu_ns_modelled", {})


def delta(after, before, method):
    return after.get(method, 0) - before.get(method, 0)


def control(path, line):
    answer = simcontrol.send(path, line)
    if answer.startswith("error"):
        raise RuntimeError(f"porto-sim control {line!r}: {answer}")
    return answer


def wait_for(predicate, what, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {seconds}s waiting for {what}")


class Scraper:
    """One keep-alive connection, scraping like Prometheus."""

    def __init__(self, port, encoding, timeout=60):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.headers = {
            "Accept": PROMETHEUS_ACCEPT,
            "Accept-Encoding": encoding,
            "User-Agent": "Prometheus/2.53.0",
            "X-Prometheus-Scrape-Timeout-Seconds": "30",
        }
        self.encoding = encoding

    def scrape(self):
        start = time.perf_counter()
        self.conn.request("GET", "/metrics", headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"scrape answered {response.status}: {body[:200]!r}")
        content_encoding = response.getheader("Content-Encoding", "identity")
        if (content_encoding == "gzip") != (self.encoding == "gzip"):
            raise RuntimeError(f"asked for {self.encoding}, got Content-Encoding {content_encoding}")
        return elapsed, body, response.getheader("Content-Type", "")

    def close(self):
        self.conn.close()


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def series_count(text):
    """Sample lines, less OpenMetrics' `_created` lines (not series of their own)."""
    count = 0
    for line in text.split(b"\n"):
        if line and not line.startswith(b"#"):
            name = line.split(b"{", 1)[0].split(b" ", 1)[0]
            count += not name.endswith(b"_created")
    return count


def run_phase(args, pid, sim_pid, stats_file, encoding, port=None):
    """K sequential scrapes on one connection; returns the figures of this phase (the exporter's
    CPU and porto-sim's, whose refresher thread's work in the phase counts too)."""
    scraper = Scraper(port or args.port, encoding)
    scraper.scrape()  # open the connection outside the measurement
    stats_before, modelled_before = read_stats(stats_file)
    cpu_before = cpu_seconds(pid)
    sim_cpu_before = cpu_seconds(sim_pid)
    latencies, sizes = [], []
    body = b""
    for _ in range(args.scrapes):
        elapsed, body, content_type = scraper.scrape()
        latencies.append(elapsed)
        sizes.append(len(body))
    cpu_after = cpu_seconds(pid)
    sim_cpu_after = cpu_seconds(sim_pid)
    stats_after, modelled_after = read_stats(stats_file)
    scraper.close()
    modelled_ns = sum(modelled_after.values()) - sum(modelled_before.values())
    text = gzip.decompress(body) if encoding == "gzip" else body
    lcb = delta(stats_after, stats_before, "ListContainersBy")
    getsystem = delta(stats_after, stats_before, "GetSystem")
    return {
        "encoding": encoding,
        "content_type": content_type,
        "scrapes": args.scrapes,
        "median_ms": statistics.median(latencies) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
        "cpu_ms_per_scrape": (cpu_after - cpu_before) / args.scrapes * 1e3,
        "sim_cpu_ms_per_scrape": (sim_cpu_after - sim_cpu_before) / args.scrapes * 1e3,
        "portod_modelled_ms_per_scrape": modelled_ns / args.scrapes / 1e6,
        "requests_per_scrape": {m: delta(stats_after, stats_before, m) / args.scrapes
                                for m in sorted(set(stats_after) | set(stats_before)) if delta(stats_after, stats_before, m)},
        "bytes_sent": statistics.median(sizes),
        "uncompressed_bytes": len(text),
        "series": series_count(text),
        "ListContainersBy": lcb,
        "GetSystem": getsystem,
    }


def run_bursts(args, stats_file, control_path):
    """Bursts of C concurrent scrapes while porto-sim answers slowly: each burst must cost portod
    exactly one ListContainersBy and one GetSystem."""
    control(control_path, f"fault delay {args.burst_delay_ms}ms")
    try:
        scrapers = [Scraper(args.port, "gzip") for _ in range(args.concurrency)]
        for s in scrapers:
            s.conn.connect()
        before, _ = read_stats(stats_file)
        failures = []
        for _ in range(args.bursts):
            barrier = threading.Barrier(args.concurrency)

            def one(s):
                try:
                    barrier.wait()
                    s.scrape()
                except Exception as error:  # reported below
                    failures.append(error)

            threads = [threading.Thread(target=one, args=(s,)) for s in scrapers]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        after, _ = read_stats(stats_file)
        for s in scrapers:
            s.close()
    finally:
        control(control_path, "fault none")
    if failures:
        raise RuntimeError(f"concurrent scrape failed: {failures[0]}")
    return {
        "bursts": args.bursts,
        "concurrency": args.concurrency,
        "ListContainersBy": delta(after, before, "ListContainersBy"),
        "GetSystem": delta(after, before, "GetSystem"),
    }


def run_floor(args, socket_path):
    out = subprocess.run([args.floor, socket_path, str(args.scrapes)], check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sim", required=True, help="porto-sim executable")
    parser.add_argument("--exporter", required=True, help="porto-exporter executable")
    parser.add_argument("--floor", help="porto-floor executable (omit to skip the floor)")
    parser.add_argument("--baseline-exporter", help="a second porto-exporter build (before) measured in the same run")
    parser.add_argument("--containers", type=int, default=1000)
    parser.add_argument("--scrapes", type=int, default=100)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--burst-delay-ms", type=int, default=300)
    parser.add_argument("--json", help="also write the figures as JSON here")
    parser.add_argument("--enforce-targets", action="store_true", help="exit non-zero when a target (CPU per scrape against the floor, steady RSS) is missed")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="porto-bench-")
    socket_path = os.path.join(work, "portod.socket")
    control_path = os.path.join(work, "control.socket")
    stats_file = os.path.join(work, "stats.json")
    args.port = free_port()
    processes = []
    failures = []
    try:
        sim = start_sim(args.sim, socket_path, "--containers", args.containers, "--stats-file", stats_file,
                        "--control", control_path, log_path=os.path.join(work, "sim.log"), timeout=60)
        processes.append(sim)
        def start_exporter(binary, port, log_name):
            process = subprocess.Popen([binary, "--porto.socket", socket_path,
                                        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                       stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, log_name), "w"))
            processes.append(process)
            anon = AnonPeak(process.pid)
            anon.start()
            anon_peaks[binary] = anon

            def ready():
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                try:
                    c.request("GET", "/metrics")
                    return c.getresponse().status == 200
                finally:
                    c.close()
            wait_for(ready, f"the exporter {binary}", 60)
            warm = Scraper(port, "gzip")
            for _ in range(3):
                warm.scrape()
            warm.close()
            return process

        anon_peaks = {}
        exporter = start_exporter(args.exporter, args.port, "exporter.log")
        baseline, baseline_phases, baseline_memory = None, [], {}
        if args.baseline_exporter:
            baseline_port = free_port()
            baseline = start_exporter(args.baseline_exporter, baseline_port, "exporter-baseline.log")
        phases = []
        for i, enc in enumerate(("identity", "gzip")):
            # Alternating which build goes first, so that a change of load falls on both alike.
            if baseline and i % 2 == 0:
                baseline_phases.append(run_phase(args, baseline.pid, sim.pid, stats_file, enc, baseline_port))
            phases.append(run_phase(args, exporter.pid, sim.pid, stats_file, enc))
            if baseline and i % 2 == 1:
                baseline_phases.append(run_phase(args, baseline.pid, sim.pid, stats_file, enc, baseline_port))
        time.sleep(0.5)   # steady = between scrapes: the exporter gives freed memory back just after the last answer
        memory = status_kib(exporter.pid, "VmRSS", "VmHWM")
        anon_mb = anon_peaks[args.exporter].stop()
        if baseline:
            baseline_memory = status_kib(baseline.pid, "VmRSS", "VmHWM")
            baseline_anon_mb = anon_peaks[args.baseline_exporter].stop()
            baseline.terminate()
            baseline.wait(10)
        bursts = run_bursts(args, stats_file, control_path)
        floor = run_floor(args, socket_path) if args.floor else None
    finally:
        for p in reversed(processes):
            p.terminate()
        for p in reversed(processes):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    # Checks: portod's cost per collection.
    for phase in phases + baseline_phases:
        for method in ("ListContainersBy", "GetSystem"):
            if phase[method] != args.scrapes:
                failures.append(f"{phase['encoding']}: {args.scrapes} sequential scrapes sent {phase[method]} {method} (expected one per scrape)")
    if floor:
        # The floor must send what the exporter sends per scrape (a quarter's slower groups in turn).
        for phase in phases:
            asked = phase["requests_per_scrape"]
            for method in sorted(set(asked) | set(floor["requests_per_iteration"])):
                if abs(asked.get(method, 0) - floor["requests_per_iteration"].get(method, 0)) > 0.01:
                    failures.append(f"floor sends {floor['requests_per_iteration'].get(method, 0):g} {method} per iteration, "
                                    f"the exporter {asked.get(method, 0):g} per {phase['encoding']} scrape")
    for method in ("ListContainersBy", "GetSystem"):
        if bursts[method] != args.bursts:
            failures.append(f"{args.bursts} bursts of {args.concurrency} concurrent scrapes sent {bursts[method]} {method} (expected one per burst)")

    # Report.
    rss_mb = memory.get("VmRSS", 0) / 1024
    hwm_mb = memory.get("VmHWM", 0) / 1024
    print(f"porto-exporter end to end: {args.containers} containers, {args.scrapes} scrapes per phase, "
          f"{phases[0]['series']} series, {phases[0]['uncompressed_bytes']} bytes uncompressed ({phases[0]['content_type']})")
    print(f"{'phase':<10} {'median ms':>10} {'p99 ms':>8} {'CPU ms/scrape':>14} {'bytes sent':>11} {'floor ms':>9} {'ratio':>6} {'sim CPU ms':>11}")
    floor_ms = floor["cpu_seconds_per_iteration"] * 1e3 if floor else None
    results = {"containers": args.containers, "scrapes": args.scrapes, "phases": phases, "bursts": bursts,
               "rss_steady_mb": rss_mb, "rss_peak_mb": hwm_mb, "anon_peak_mb": anon_mb, "floor": floor}
    targets = []
    for phase in phases:
        ratio = phase["cpu_ms_per_scrape"] / floor_ms if floor_ms else None
        phase["floor_ratio"] = ratio
        print(f"{phase['encoding']:<10} {phase['median_ms']:>10.2f} {phase['p99_ms']:>8.2f} {phase['cpu_ms_per_scrape']:>14.3f} "
              f"{phase['bytes_sent']:>11.0f} {floor_ms if floor_ms is not None else float('nan'):>9.3f} "
              f"{ratio if ratio is not None else float('nan'):>6.2f} {phase['sim_cpu_ms_per_scrape']:>11.3f}")
    for phase in phases + baseline_phases:
        phase["cpu_us_per_series"] = phase["cpu_ms_per_scrape"] * 1e3 / max(phase["series"], 1)
        phase["cpu_ms_per_mb_written"] = phase["cpu_ms_per_scrape"] / max(phase["uncompressed_bytes"] / 1e6, 1e-9)
    for phase in phases:
        print(f"exporter CPU {phase['encoding']}: {phase['cpu_us_per_series']:.3f} us per series, "
              f"{phase['cpu_ms_per_mb_written']:.2f} ms per MB of exposition written "
              f"({phase['uncompressed_bytes'] / 1e6:.2f} MB, {phase['bytes_sent'] / 1e6:.2f} MB sent)")
    if baseline_phases:
        results["baseline"] = {"exporter": args.baseline_exporter, "phases": baseline_phases,
                               "rss_steady_mb": baseline_memory.get("VmRSS", 0) / 1024, "rss_peak_mb": baseline_memory.get("VmHWM", 0) / 1024,
                               "anon_peak_mb": baseline_anon_mb}
        for before, after in zip(baseline_phases, phases):
            lower = before["cpu_ms_per_scrape"] / after["cpu_ms_per_scrape"] if after["cpu_ms_per_scrape"] > 0 else float("inf")
            after["baseline_cpu_ms_per_scrape"], after["times_lower_than_baseline"] = before["cpu_ms_per_scrape"], lower
            print(f"before/after {after['encoding']}: exporter CPU {before['cpu_ms_per_scrape']:.1f} -> {after['cpu_ms_per_scrape']:.1f} ms per scrape "
                  f"({lower:.2f}x lower; {before['cpu_us_per_series']:.2f} -> {after['cpu_us_per_series']:.2f} us per series, "
                  f"{before['cpu_ms_per_mb_written']:.1f} -> {after['cpu_ms_per_mb_written']:.1f} ms per MB written), "
                  f"median {before['median_ms']:.1f} -> {after['median_ms']:.1f} ms, series {before['series']} / {after['series']}, "
                  f"portod (modelled) {before['portod_modelled_ms_per_scrape']:.1f} -> {after['portod_modelled_ms_per_scrape']:.1f} ms per scrape")
            if args.containers >= 1000:
                need = 2.0 if after["encoding"] == "gzip" else 2.5
                targets.append((f"CPU per scrape {after['encoding']} >= {need}x lower than the baseline", lower >= need, f"{lower:.2f}x"))
        base_peak = baseline_memory.get("VmHWM", 0) / 1024
        print(f"before/after RSS: steady {baseline_memory.get('VmRSS', 0) / 1024:.1f} -> {rss_mb:.1f} MB, peak {base_peak:.1f} -> {hwm_mb:.1f} MB")
        print(f"before/after anonymous memory: peak RssAnon {baseline_anon_mb:.1f} -> {anon_mb:.1f} MB (sampled every 2 ms)")
        targets.append(("peak RSS no higher than the baseline's", hwm_mb <= base_peak, f"{base_peak:.1f} -> {hwm_mb:.1f} MB"))
        targets.append(("peak anonymous memory no higher than the baseline's", anon_mb <= baseline_anon_mb,
                        f"{baseline_anon_mb:.1f} -> {anon_mb:.1f} MB"))
    for phase in phases:
        sim_share = phase["sim_cpu_ms_per_scrape"] / phase["cpu_ms_per_scrape"] if phase["cpu_ms_per_scrape"] > 0 else float("inf")
        phase["sim_cpu_share"] = sim_share
        verdict = "well below" if sim_share < SIM_CPU_SHARE else f"NOT well below (>= {SIM_CPU_SHARE:.0%})"
        print(f"porto-sim CPU {phase['encoding']}: {phase['sim_cpu_ms_per_scrape']:.1f} ms per scrape, "
              f"{sim_share:.0%} of the exporter's: {verdict}")
    for phase in phases:
        modelled = phase["portod_modelled_ms_per_scrape"]
        requests = ", ".join(f"{n:g} {m}" for m, n in phase["requests_per_scrape"].items())
        print(f"portod CPU per scrape (modelled) {phase['encoding']}: {modelled:.1f} ms "
              f"({modelled / args.containers:.3f} ms per container; {requests} per scrape), "
              f"exporter CPU {phase['cpu_ms_per_scrape']:.1f} ms ({phase['cpu_us_per_series']:.2f} us per series, "
              f"{phase['cpu_ms_per_mb_written']:.1f} ms per MB written)")
    print(f"RSS steady {rss_mb:.1f} MB, peak {hwm_mb:.1f} MB, peak anonymous {anon_mb:.1f} MB (RssAnon sampled every 2 ms)")
    if floor:
        requests = ", ".join(f"{n:g} {m}" for m, n in floor["requests_per_iteration"].items())
        once = "".join(f", {m} once per connection" for m in floor["first_collection_only"])
        print(f"floor: {requests} per iteration{once}, the answers' bytes received (envelope checked, no decoding): "
              f"{floor['bytes_per_iteration'] / 1e6:.2f} MB, {floor_ms:.3f} ms CPU per iteration")
    print(f"portod requests: sequential {phases[0]['ListContainersBy']}+{phases[1]['ListContainersBy']} ListContainersBy, "
          f"{phases[0]['GetSystem']}+{phases[1]['GetSystem']} GetSystem for 2x{args.scrapes} scrapes; "
          f"{args.bursts} bursts of {args.concurrency}: {bursts['ListContainersBy']} ListContainersBy, {bursts['GetSystem']} GetSystem")
    rss_limit = 64 if args.containers >= 10000 else 20 if args.containers <= 100 else None
    if rss_limit:
        targets.append((f"steady RSS <= {rss_limit} MB", rss_mb <= rss_limit, f"{rss_mb:.1f} MB"))
    for name, ok, value in targets:
        print(f"target {'met' if ok else 'MISSED'}: {name}: {value}")
    results["targets"] = [{"target": n, "met": ok, "value": v} for n, ok, v in targets]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    if args.enforce_targets:
        failures += [f"target missed: {n}: {v}" for n, ok, v in targets if not ok]
    for failure in failures:
        print(f"FAIL: {failure}")
    print(f"checks: {'FAILED' if failures else 'ok'} (logs in {work})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
