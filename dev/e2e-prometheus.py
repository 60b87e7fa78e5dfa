#!/usr/bin/env python3
"""The checks of dev/ci.d/90-e2e-prometheus.sh, against a running Prometheus that scrapes
porto-exporter, which reads porto-sim, with the rules of rules/*.rules.yml time-compressed
(`compress-rules` below: every duration divided by 60, so `for: 5m` waits 5 s and `[15m]` covers
15 s; the promtool tests in rules/tests/ show the real timings).

  e2e-prometheus.py compress-rules SRC DST      writes the compressed copy of a rule file
  e2e-prometheus.py --prometheus URL --control SOCKET [...]

1. The target is up (whatever its job is called: the script is told the job); with --revision,
   porto_exporter_build_info carries it.
2. States porto-sim starts with raise their alerts: the container dead from OOM
   (PortoContainerOOMKilled), the ones dead with a non-zero exit code (PortoContainerFailed), and
   not for the one that exited 0.
3. Each failure is made to happen through porto-sim's control socket, and its alert must fire
   (with the container it names) and then clear once the failure is undone or its window has
   passed; alerts that must stay quiet meanwhile are checked too: a failing collector
   (`fault fail-lcb`: PortoCollectorFailing, not PortodUnreachable), a slow portod
   (`fault delay ... only GetSystem`), an unreachable one (`fault cut`), a restart, an OOM kill in
   a memory owner, an OOM death of a nested container (named, not its memory owner), a container
   that dies with exit code 1 (named, not its children; stopping it on purpose clears it), a failed
   start, a crash loop (`respawn`), and, with --exporter-cmd, the exporter itself stopped and
   started again (PortoExporterDown).
4. Every dashboard query (dev/check-dashboards.py --queries) returns data, for a first-level
   container and for a nested one (--nested).
5. Every rule is healthy; every recording rule returns data; every series selector of every alert
   has had data during the run (the conditions are the promtool tests' business).

A check that needs a metric of the name contract (PENDING_CONTRACT) that this exporter does not
write, or a porto-sim control command it does not know, is reported as "not checked" with the
reason, never passed silently; anything else missing fails the run.
"""
import argparse
import atexit
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import simcontrol  # dev/simcontrol.py (the script's folder is on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Metric names the rules and dashboards use from the metric name contract that an exporter build
# may not write yet. A check that needs one of them, absent from Prometheus, is listed as not
# checked at the end of the run instead of failing it.
PENDING_CONTRACT = {
    # Written only when some values are read at a slower cadence than the scrapes.
    "porto_exporter_values_age_seconds",
}

not_checked = []
# Recording rule name -> its expression (filled from Prometheus), to see through a record to the
# metrics it reads when a query that uses it has no data.
records = {}


def log(msg):
    print(f"e2e: {msg}", flush=True)


def skip(what, why):
    not_checked.append(f"{what}: {why}")
    log(f"NOT CHECKED: {what}: {why}")


# ---- time-compressed rules --------------------------------------------------------------------

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
FACTOR = 60


def compress_duration(text, minimum):
    seconds = sum(int(n) * UNIT_SECONDS[u] for n, u in re.findall(r"(\d+)([smhd])", text))
    return f"{max(minimum, seconds // FACTOR)}s" if seconds else "0s"


def compress_expr(expr):
    expr = re.sub(r"\[((?:\d+[smhd])+)\]", lambda m: f"[{compress_duration(m.group(1), 3)}]", expr)
    return re.sub(r"\boffset\s+((?:\d+[smhd])+)", lambda m: f"offset {compress_duration(m.group(1), 3)}", expr)


def compress_rules(src, dst):
    import yaml
    with open(src) as f:
        data = yaml.safe_load(f)
    for group in data["groups"]:
        for rule in group["rules"]:
            rule["expr"] = compress_expr(rule["expr"])
            if "for" in rule:
                rule["for"] = compress_duration(str(rule["for"]), 1)
    with open(dst, "w") as f:
        f.write(f"# {src} with every duration divided by {FACTOR} (dev/e2e-prometheus.py compress-rules)\n")
        yaml.safe_dump(data, f, sort_keys=False, width=1000)


# ---- Prometheus -------------------------------------------------------------------------------

class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def get(self, path, **params):
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, expr):
        """The result of an instant query, or raises with Prometheus's error."""
        try:
            return self.get("/api/v1/query", query=expr)["result"]
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{expr}: HTTP {e.code}: {e.read().decode(errors='replace')}") from None

    def has_metric(self, name, window="1h"):
        return bool(self.query(f"count(last_over_time({{__name__={json.dumps(name)}}}[{window}]))"))


def wait_for(what, timeout, probe, interval=0.5):
    """Calls probe() until it returns something truthy; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - keep polling, report the last error
            last_error = e
        time.sleep(interval)
    raise SystemExit(f"e2e: FAILED: {what} within {timeout} s" + (f" (last error: {last_error})" if last_error else ""))


def alerts(prom, alertname, states=("firing",), **labels):
    return [a for a in prom.get("/api/v1/alerts")["alerts"]
            if a["labels"].get("alertname") == alertname and a["state"] in states
            and all(a["labels"].get(k) == v for k, v in labels.items())]


def describe(alertname, labels):
    return alertname + ("{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")


def expect_firing(prom, alertname, timeout, **labels):
    started = time.monotonic()
    wait_for(f"{describe(alertname, labels)} firing", timeout, lambda: alerts(prom, alertname, **labels))
    log(f"{describe(alertname, labels)} firing after {time.monotonic() - started:.1f} s")


def expect_cleared(prom, alertname, timeout, **labels):
    started = time.monotonic()
    wait_for(f"{describe(alertname, labels)} cleared", timeout,
             lambda: not alerts(prom, alertname, ("pending", "firing"), **labels))
    log(f"{describe(alertname, labels)} cleared after {time.monotonic() - started:.1f} s")


def expect_quiet(prom, alertname, **labels):
    found = alerts(prom, alertname, ("pending", "firing"), **labels)
    if found:
        raise SystemExit(f"e2e: FAILED: {describe(alertname, labels)} is {found[0]['state']} but must not be: {found}")


# ---- porto-sim's control socket ---------------------------------------------------------------

def control(path, command, optional=False):
    """Sends one command; with optional=True an unknown command returns False instead of failing."""
    answer = simcontrol.send(path, command, timeout=10)
    if answer != "ok":
        if optional and answer.startswith("error: unknown command"):
            return False
        raise SystemExit(f"e2e: FAILED: porto-sim control {command!r} answered {answer!r}")
    log(f"porto-sim control: {command} -> ok")
    return True


# ---- data checks ------------------------------------------------------------------------------

SELECTOR = re.compile(r"(?<![\w:])(up|porto_[a-z0-9_]+)\b(\{[^}]*\})?")


def selectors(expr):
    """The series selectors of a rule expression: `name{matchers}` for each metric it reads."""
    return sorted({m.group(1) + (m.group(2) or "") for m in SELECTOR.finditer(expr)
                   if not expr[m.end():].lstrip().startswith("(")})


def expand(expr):
    """expr with each recording rule name replaced by the rule's expression (records of records too)."""
    for _ in range(3):
        for name, query in records.items():
            expr = re.sub(rf"(?<![\w:]){re.escape(name)}(?![\w:])", f"({query})", expr)
    return expr


def check_queries(prom, queries, what, timeout):
    """Every query must return a non-empty result; rates need a few scrapes, so failing ones are
    retried until timeout. A query that reads a pending contract metric absent from Prometheus is
    reported as not checked."""
    pending = dict(queries)
    errors = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, expr in list(pending.items()):
            try:
                if prom.query(expr):
                    del pending[key]
                    errors.pop(key, None)
                else:
                    errors[key] = "empty result"
            except Exception as e:  # noqa: BLE001
                errors[key] = str(e)
        if pending:
            time.sleep(2)
    failed = 0
    for key, expr in pending.items():
        missing = sorted({m.group(1) for m in SELECTOR.finditer(expand(expr))} & PENDING_CONTRACT)
        missing = [name for name in missing if not prom.has_metric(name)]
        if missing and errors.get(key) == "empty result":
            skip(f"{what} {key}", f"needs {', '.join(missing)}, not written by this exporter")
            continue
        failed += 1
        print(f"e2e: no data: {what} {key}: {expr}\n     ({errors.get(key)})", file=sys.stderr)
    log(f"{what}: {len(queries) - len(pending)} of {len(queries)} queries return data")
    return failed == 0


# ---- the scenarios ----------------------------------------------------------------------------

class Run:
    def __init__(self, args, prom, instance):
        self.args = args
        self.prom = prom
        self.instance = instance
        self.job = args.job

    def metric(self, name):
        return self.prom.has_metric(name)

    def names(self, expr):
        return sorted(s["metric"]["name"] for s in self.prom.query(expr))

    def scenario(self, title, trigger, alert, labels, undo=(), quiet=(), needs=(), timeout=None):
        """trigger (control commands) -> alert{labels} firing, with each (alert, labels) of quiet
        staying quiet -> undo -> alert cleared."""
        timeout = timeout or self.args.alert_timeout
        for name in needs:
            if not self.metric(name):
                skip(title, f"needs {name}, not written by this exporter")
                return
        labels = dict(labels, instance=self.instance)
        log(f"--- {title}")
        expect_cleared(self.prom, alert, timeout, **labels)
        for command in trigger:
            if not control(self.args.control, command, optional=True):
                skip(title, f"porto-sim does not know `{command.split()[0]}`")
                return
        expect_firing(self.prom, alert, timeout, **labels)
        for q_alert, q_labels in quiet:
            expect_quiet(self.prom, q_alert, **dict(q_labels, instance=self.instance))
        for command in undo:
            control(self.args.control, command)
        expect_cleared(self.prom, alert, timeout, **labels)


def run_scenarios(run):
    args, prom, instance = run.args, run.prom, run.instance
    timeout = args.alert_timeout

    # What porto-sim starts with: batch/job-oom dead from OOM, batch/job-fail (exit 1) and
    # batch/job-segv (SIGSEGV) dead, batch/job-ok exited 0.
    log("--- states porto-sim starts with")
    expect_firing(prom, "PortoContainerOOMKilled", timeout, name="batch/job-oom", instance=instance)
    expect_firing(prom, "PortoContainerFailed", timeout, name="batch/job-fail", instance=instance)
    expect_firing(prom, "PortoContainerFailed", timeout, name="batch/job-segv", instance=instance)
    for alert in ("PortoContainerFailed", "PortoContainerOOMKilled"):
        expect_quiet(prom, alert, name="batch/job-ok", instance=instance)
    expect_quiet(prom, "PortoContainerFailed", name="batch/job-oom", instance=instance)
    # batch/job-fail also holds a start error, InvalidCommand.
    if run.metric("porto_container_start_failed"):
        expect_firing(prom, "PortoContainerStartFailed", timeout, name="batch/job-fail",
                      error="InvalidCommand", instance=instance)
    else:
        skip("PortoContainerStartFailed for batch/job-fail", "needs porto_container_start_failed, not written by this exporter")

    run.scenario("a failing collector while portod answers", ["fault fail-lcb"],
                 "PortoCollectorFailing", {"collector": "containers"}, undo=["fault none"],
                 quiet=[("PortodUnreachable", {})])
    # 60 ms: above the alert's 50 ms, below the exporter's bound for GetSystem (a tenth of the
    # 1 s scrape timeout less 10%, 90 ms), past which the request fails instead.
    run.scenario("portod slow to answer", ["fault delay 60ms only GetSystem"],
                 "PortodSlowToAnswer", {}, undo=["fault none"], quiet=[("PortodUnreachable", {})])
    run.scenario("portod unreachable", ["fault cut"], "PortodUnreachable", {}, undo=["fault none"])
    run.scenario("portod restarted", ["restart"], "PortodRestarted", {})

    # An OOM kill in a running container that owns its memory cgroup: named by the counter.
    owners = run.names(f'porto_container_oom_kills_total{{instance="{instance}", name!="/"}} == 0 '
                       f'and on(name) porto_container_state{{instance="{instance}", state="running"}} == 1')
    owner = "web" if "web" in owners else owners[0]
    run.scenario(f"an OOM kill in {owner}", [f"oom {owner}"], "PortoContainerOOMKills", {"name": owner})

    # The OOM death of a nested container without its own memory cgroup: named itself, and its
    # memory owner (web/frontend/worker-1) stays quiet.
    task = "web/frontend/worker-1/task"
    quiet = [("PortoContainerOOMKills", {"name": "web/frontend/worker-1"})]
    if not run.metric("porto_container_controller_owner"):
        skip(f"PortoContainerOOMKills quiet for the memory owner of {task}",
             "needs porto_container_controller_owner, not written by this exporter")
        quiet = []
    run.scenario(f"the OOM death of {task}", [f"oom-exit {task}"], "PortoContainerOOMKilled",
                 {"name": task}, undo=[f"state {task} stopped", f"state {task} running"], quiet=quiet)

    # db dies with exit code 1; db/replica, killed with it, is not named. Stopping db on purpose
    # clears the alert.
    run.scenario("db dies with exit code 1", ["state db dead"], "PortoContainerFailed", {"name": "db"},
                 undo=["state db stopped"], quiet=[("PortoContainerFailed", {"name": "db/replica"})])
    control(args.control, "state db running")

    # A failed start: named by start_failed; portod's host-wide count stays quiet meanwhile.
    if run.metric("porto_container_start_failed"):
        run.scenario("idle fails to start", ["fail-start idle"], "PortoContainerStartFailed", {"name": "idle"},
                     undo=["state idle running"], quiet=[("PortoContainerStartFailures", {})])
    else:
        skip("PortoContainerStartFailed for idle", "needs porto_container_start_failed, not written by this exporter")
        run.scenario("idle fails to start (host-wide count)", ["fail-start idle"],
                     "PortoContainerStartFailures", {}, undo=["state idle running"])
    control(args.control, "state idle stopped")

    run.scenario("flappy crash-loops", ["respawn flappy"] * 3, "PortoContainerCrashLooping", {"name": "flappy"})


def run_exporter_down(run, exporter_pid):
    """Stops the exporter: PortoExporterDown fires; starts it again: it clears."""
    args, prom = run.args, run.prom
    labels = {"instance": run.instance, "job": run.job}
    log("--- the exporter stopped and started again")
    expect_cleared(prom, "PortoExporterDown", args.alert_timeout, **labels)
    os.kill(exporter_pid, signal.SIGTERM)
    log("porto-exporter stopped")
    expect_firing(prom, "PortoExporterDown", args.alert_timeout, **labels)
    log_file = open(args.exporter_log or os.devnull, "ab")
    proc = subprocess.Popen(json.loads(args.exporter_cmd), stdout=log_file, stderr=log_file)
    atexit.register(lambda: (proc.terminate(), proc.wait()))
    log("porto-exporter started again")
    expect_cleared(prom, "PortoExporterDown", args.alert_timeout, **labels)


def check_dashboards(prom, instance, names, args):
    """Every dashboard for the first name; the container dashboard for the others."""
    ok = True
    for i, name in enumerate(names):
        files = [] if i == 0 else [os.path.join("dashboards", "porto-container.json")]
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "check-dashboards.py"), "--queries", *files,
             "--set", f"instance={instance}", "--set", f"name={name}",
             "--set", f"__rate_interval={args.rate_interval}", "--set", f"__range={args.range}"],
            check=True, capture_output=True, text=True, cwd=ROOT).stdout
        queries = {}
        for line in out.splitlines():
            q = json.loads(line)
            queries[f"{os.path.basename(q['dashboard'])} / panel {q.get('id', '-')} {q['panel']!r} / {q['ref']}"] = q["expr"]
        ok &= check_queries(prom, queries, f"dashboards (name={name})", args.timeout)
    return ok


def check_rules(prom, timeout):
    def evaluated():
        groups = prom.get("/api/v1/rules")["groups"]
        every = [r for g in groups for r in g["rules"]]
        if every and all(not r.get("lastEvaluation", "").startswith("0001-") for r in every):
            return every
        return None
    every = wait_for("every rule evaluated", timeout, evaluated)
    unhealthy = [r for r in every if r["health"] != "ok"]
    for r in unhealthy:
        print(f"e2e: rule {r['name']} unhealthy: {r.get('lastError')}", file=sys.stderr)
    log(f"rules: {len(every) - len(unhealthy)} of {len(every)} healthy")
    queries = {}
    for r in every:
        if r["type"] == "recording":
            queries[f"recording {r['name']}"] = r["query"]
        else:
            for sel in selectors(r["query"]):
                if sel.startswith("up{") or sel == "up":
                    continue  # Prometheus's own; its job selector matches no job of this run
                # Seen at any time of the run: some series exist only while a failure lasts.
                queries[f"alert {r['name']} {sel}"] = f"last_over_time({sel}[1h])"
    return check_queries(prom, queries, "rules", timeout) and not unhealthy


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "compress-rules":
        compress_rules(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--prometheus", required=True, help="base URL of the Prometheus server")
    ap.add_argument("--control", required=True, help="porto-sim's control socket")
    ap.add_argument("--job", required=True, help="the scrape job of the exporter")
    ap.add_argument("--nested", default="web/frontend/worker-1/task", help="the nested container the dashboards are checked with")
    ap.add_argument("--rate-interval", default="10s", help="what $__rate_interval becomes")
    ap.add_argument("--range", default="1m", help="what $__range becomes")
    ap.add_argument("--timeout", type=float, default=60, help="seconds to wait for data")
    ap.add_argument("--alert-timeout", type=float, default=60, help="seconds for an alert to fire or clear")
    ap.add_argument("--exporter-pid", type=int, help="porto-exporter's pid, to stop it")
    ap.add_argument("--exporter-cmd", help="the exporter's command line (JSON list), to start it again")
    ap.add_argument("--exporter-log", help="where the started-again exporter writes")
    ap.add_argument("--revision", help="the git revision porto_exporter_build_info must carry")
    args = ap.parse_args()
    prom = Prometheus(args.prometheus)

    wait_for("Prometheus ready", 60, lambda: urllib.request.urlopen(f"{prom.url}/-/ready", timeout=5).status == 200)

    def target_up():
        targets = prom.get("/api/v1/targets")["activeTargets"]
        return [t for t in targets if t["labels"].get("job") == args.job and t["health"] == "up"]
    target = wait_for(f"target of job {args.job} up", args.timeout, target_up)[0]
    instance = target["labels"]["instance"]
    log(f"target {instance} (job {args.job}) up")
    if args.revision:
        query = f'porto_exporter_build_info{{instance="{instance}", revision="{args.revision}"}}'
        wait_for(f"{query} returns data", args.timeout, lambda: prom.query(query))
        log(f"build_info carries revision {args.revision}")

    records.update({r["name"]: r["query"] for g in prom.get("/api/v1/rules")["groups"]
                    for r in g["rules"] if r["type"] == "recording"})
    run = Run(args, prom, instance)
    run_scenarios(run)

    ok = check_dashboards(prom, instance, ["web", args.nested], args)
    ok &= check_rules(prom, args.timeout)

    if args.exporter_pid and args.exporter_cmd:
        run_exporter_down(run, args.exporter_pid)

    if not_checked:
        log(f"{len(not_checked)} check(s) not made:")
        for line in not_checked:
            log(f"  not checked: {line}")
    if not ok:
        raise SystemExit("e2e: FAILED")
    log("passed")


if __name__ == "__main__":
    main()
