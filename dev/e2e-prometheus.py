#!/usr/bin/env python3
"""The checks of dev/ci.d/90-e2e-prometheus.sh, against a running Prometheus that scrapes
porto-exporter (job "porto"), which reads porto-sim, and loads rules/*.rules.yml.

1. The target is up.
2. Every dashboard query (dev/check-dashboards.py --queries, with $instance, $name,
   $__rate_interval and $__range substituted) returns data through /api/v1/query.
3. Every rule is healthy (evaluated without error), and every rule expression returns data: a
   recording rule's whole expression, and for an alert the data side of each condition (the
   expression is split on top-level and/or/unless and each part cut before its top-level
   comparison: `A / B > 0.9 and on(x) C > 0` checks `A / B` and `C`). The conditions themselves
   are shown by the promtool tests in rules/tests/.
4. Events made to happen in porto-sim through its control socket make the alerts fire:
   an OOM kill in a container -> PortoContainerOOMKilled{name=...} firing; a failed start ->
   PortoContainerStartFailures; a portod restart -> PortodRestarted. Each within --alert-timeout
   seconds (the real rules: these alerts have no `for`, and Prometheus evaluates every second
   here), and none of them firing before its event.
5. With --revision: porto_exporter_build_info carries that revision.
6. With --sim-pid and --exporter-pid: stopping porto-sim makes PortodUnreachable pending, then
   stopping the exporter makes PortoExporterDown pending (both have `for: 2m`, so pending is what
   a bounded test can see; the promtool tests show them firing).
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import simcontrol  # dev/simcontrol.py (the script's folder is on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def log(msg):
    print(f"e2e: {msg}", flush=True)


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


def wait_for(what, timeout, probe, interval=1.0):
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


# ---- PromQL: the data side of an alert condition ----------------------------------------------

SET_OPS = ("or", "and", "unless")
COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def _top_level(expr):
    """Yields (index, char) for characters outside (), {}, [] and string literals."""
    depth = 0
    quote = None
    i = 0
    while i < len(expr):
        c = expr[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            yield i, c
        i += 1


def _strip_modifiers(expr):
    """Drops a leading `on(...)`, `ignoring(...)`, `group_left(...)`, `group_right(...)`, `bool`."""
    expr = expr.strip()
    changed = True
    while changed:
        changed = False
        for word in ("bool", "on", "ignoring", "group_left", "group_right"):
            if expr.startswith(word) and (len(expr) == len(word) or not (expr[len(word)].isalnum() or expr[len(word)] == "_")):
                rest = expr[len(word):].lstrip()
                if rest.startswith("("):
                    close = rest.index(")")
                    rest = rest[close + 1:]
                expr = rest.strip()
                changed = True
    return expr


def split_set_operations(expr):
    parts, start = [], 0
    positions = [i for i, _ in _top_level(expr)]
    top = set(positions)
    i = 0
    while i < len(expr):
        if i in top:
            for op in SET_OPS:
                end = i + len(op)
                if (expr[i:end] == op and (i == 0 or not (expr[i - 1].isalnum() or expr[i - 1] == "_"))
                        and end < len(expr) and not (expr[end].isalnum() or expr[end] == "_")
                        and all(k in top for k in range(i, end))):
                    parts.append(expr[start:i])
                    start = end
                    i = end
                    break
            else:
                i += 1
                continue
            continue
        i += 1
    parts.append(expr[start:])
    return [_strip_modifiers(p) for p in parts if p.strip()]


def data_side(condition):
    """`A / B > 0.9` -> `A / B`; an expression without a top-level comparison is returned whole."""
    top = dict(_top_level(condition))
    for i in sorted(top):
        for op in COMPARISONS:
            if condition.startswith(op, i) and all(k in top for k in range(i, i + len(op))):
                if op in (">", "<") and condition.startswith("=", i + 1):
                    continue
                return condition[:i].strip()
    return condition.strip()


def data_expressions(rule):
    if rule["type"] == "recording":
        return [rule["query"]]
    return [data_side(part) for part in split_set_operations(rule["query"])]


# ---- porto-sim's control socket ---------------------------------------------------------------

def control(path, command):
    answer = simcontrol.send(path, command, timeout=10)
    if answer != "ok":
        raise SystemExit(f"e2e: FAILED: porto-sim control {command!r} answered {answer!r}")
    log(f"porto-sim control: {command} -> ok")


# ---- the checks -------------------------------------------------------------------------------

def check_queries(prom, queries, what, timeout):
    """Every query must return a non-empty result; rates need a few scrapes, so failing ones are
    retried until timeout."""
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
    for key in pending:
        print(f"e2e: no data: {what} {key}: {pending[key]}\n     ({errors.get(key)})", file=sys.stderr)
    log(f"{what}: {len(queries) - len(pending)} of {len(queries)} queries return data")
    return not pending


def firing(prom, alertname, states=("firing",), **labels):
    return [a for a in prom.get("/api/v1/alerts")["alerts"]
            if a["labels"].get("alertname") == alertname and a["state"] in states
            and all(a["labels"].get(k) == v for k, v in labels.items())]


def expect_alert(prom, alertname, timeout, states=("firing",), **labels):
    started = time.monotonic()
    wait_for(f"{alertname} {labels} {'/'.join(states)}", timeout,
             lambda: firing(prom, alertname, states, **labels))
    log(f"{alertname} {labels} {'/'.join(states)} after {time.monotonic() - started:.1f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prometheus", required=True, help="base URL of the Prometheus server")
    ap.add_argument("--control", required=True, help="porto-sim's control socket")
    ap.add_argument("--job", default="porto")
    ap.add_argument("--rate-interval", default="10s", help="what $__rate_interval becomes")
    ap.add_argument("--range", default="1m", help="what $__range becomes")
    ap.add_argument("--timeout", type=float, default=60, help="seconds to wait for data")
    ap.add_argument("--alert-timeout", type=float, default=60, help="seconds for an alert to fire")
    ap.add_argument("--sim-pid", type=int, help="porto-sim's pid, to stop it at the end")
    ap.add_argument("--exporter-pid", type=int, help="porto-exporter's pid, to stop it at the end")
    ap.add_argument("--revision", help="the git revision porto_exporter_build_info must carry")
    args = ap.parse_args()
    prom = Prometheus(args.prometheus)
    ok = True

    wait_for("Prometheus ready", 60, lambda: urllib.request.urlopen(f"{prom.url}/-/ready", timeout=5).status == 200)

    def target_up():
        targets = prom.get("/api/v1/targets")["activeTargets"]
        return [t for t in targets if t["labels"].get("job") == args.job and t["health"] == "up"]
    target = wait_for(f"target of job {args.job} up", args.timeout, target_up)[0]
    instance = target["labels"]["instance"]
    log(f"target {instance} up")

    if args.revision:
        query = f'porto_exporter_build_info{{instance="{instance}", revision="{args.revision}"}}'
        wait_for(f"{query} returns data", args.timeout, lambda: prom.query(query))
        log(f"build_info carries revision {args.revision}")

    # The container the container dashboard is checked with: the one with the most series (the
    # best covered), "/" left out.
    def busiest():
        r = prom.query(f'topk(1, count by (name) ({{__name__=~"porto_container_.+", instance="{instance}", name!="/"}}))')
        return r[0]["metric"]["name"] if r else None
    name = wait_for("a container with metrics", args.timeout, busiest)
    log(f"container dashboard checked with name={name!r}")

    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "check-dashboards.py"), "--queries",
         "--set", f"instance={instance}", "--set", f"name={name}",
         "--set", f"__rate_interval={args.rate_interval}", "--set", f"__range={args.range}"],
        check=True, capture_output=True, text=True, cwd=ROOT).stdout
    queries = {}
    for line in out.splitlines():
        q = json.loads(line)
        queries[f"{os.path.basename(q['dashboard'])} / panel {q.get('id', '-')} {q['panel']!r} / {q['ref']}"] = q["expr"]
    ok &= check_queries(prom, queries, "dashboards", args.timeout)

    # Rules: all of them evaluated at least once, healthy, and with data.
    def rules():
        groups = prom.get("/api/v1/rules")["groups"]
        all_rules = [r for g in groups for r in g["rules"]]
        if all_rules and all(not r.get("lastEvaluation", "").startswith("0001-") for r in all_rules):
            return all_rules
        return None
    all_rules = wait_for("every rule evaluated", args.timeout, rules)
    if not all_rules:
        print("e2e: no rules loaded", file=sys.stderr)
        ok = False
    unhealthy = [r for r in all_rules if r["health"] != "ok"]
    for r in unhealthy:
        print(f"e2e: rule {r['name']} unhealthy: {r.get('lastError')}", file=sys.stderr)
    ok &= not unhealthy
    rule_queries = {}
    for r in all_rules:
        for i, expr in enumerate(data_expressions(r)):
            rule_queries[f"{r['type']} {r['name']} [{i}]"] = expr
    log(f"rules: {len(all_rules) - len(unhealthy)} of {len(all_rules)} healthy")
    ok &= check_queries(prom, rule_queries, "rules", args.timeout)

    # Events in porto-sim make the alerts fire.
    for alert in ("PortoContainerOOMKilled", "PortoContainerStartFailures", "PortodRestarted"):
        if firing(prom, alert):
            print(f"e2e: {alert} fires before any event: {firing(prom, alert)}", file=sys.stderr)
            ok = False
    oom_name = name
    if not prom.query(f'porto_container_oom_kills_total{{instance="{instance}", name="{name}"}}'):
        r = prom.query(f'porto_container_oom_kills_total{{instance="{instance}", name!="/"}}')
        oom_name = r[0]["metric"]["name"] if r else name
    control(args.control, f"oom {oom_name}")
    expect_alert(prom, "PortoContainerOOMKilled", args.alert_timeout, name=oom_name, instance=instance)
    control(args.control, f"fail-start {name}")
    expect_alert(prom, "PortoContainerStartFailures", args.alert_timeout, instance=instance)
    control(args.control, "restart")
    expect_alert(prom, "PortodRestarted", args.alert_timeout, instance=instance)
    # The target stays up across portod's restart: the exporter reconnects.
    wait_for("porto_up 1 after the restart", args.timeout,
             lambda: any(s["value"][1] == "1" for s in prom.query(f'porto_up{{instance="{instance}"}}')))

    # portod gone, then the exporter gone: the down alerts become pending (they have `for: 2m`).
    both = ("pending", "firing")
    for alert in ("PortodUnreachable", "PortoExporterDown"):
        # a scrape during the restart above may have seen porto_up 0 for a moment
        wait_for(f"{alert} inactive while everything runs", args.alert_timeout,
                 lambda: not firing(prom, alert, both))
    if args.sim_pid:
        os.kill(args.sim_pid, signal.SIGTERM)
        log("porto-sim stopped")
        expect_alert(prom, "PortodUnreachable", args.alert_timeout, both, instance=instance)
    if args.exporter_pid:
        os.kill(args.exporter_pid, signal.SIGTERM)
        log("porto-exporter stopped")
        expect_alert(prom, "PortoExporterDown", args.alert_timeout, both, instance=instance, job=args.job)

    if not ok:
        raise SystemExit("e2e: FAILED")
    log("passed")


if __name__ == "__main__":
    main()
