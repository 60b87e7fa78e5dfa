#!/usr/bin/env python3
"""Checks the Grafana dashboards in dashboards/ and extracts their queries.

Checks (exit 1 and one line per problem on failure):
  - schemaVersion >= 39; a `datasource` variable of type datasource (Prometheus), an `instance`
    variable, and a `name` variable wherever a query uses $name;
  - every panel (rows excepted) has a description, a known Grafana unit, the ${datasource}
    datasource on the panel and on each target, and at least one query;
  - every query filters on instance="$instance" (and name="$name" on a per-container dashboard);
  - every range selector is [$__rate_interval] ([$__range] only for increase() "in range" stats),
    so that no window is shorter than what the scrape interval allows;
  - no variable is used that the dashboard does not define (Grafana's built-ins excepted).

  dev/check-dashboards.py [--queries] [--set VAR=VALUE ...] [FILE ...]   (default: dashboards/*.json)

--queries prints one JSON object per line, {"dashboard", "panel", "id", "ref", "expr"}, for every panel
query and every variable query (label_values(METRIC, LABEL) becomes METRIC), with the --set
variables substituted ($__rate_interval, $__range, $instance, $name, ...). The end-to-end test
runs them against a real Prometheus; dev/ci.d/32-dashboards.sh has promtool parse them.
"""
import argparse
import glob
import json
import re
import sys

# Grafana unit ids used by these dashboards (packages/grafana-data/src/valueFormats/categories.ts).
KNOWN_UNITS = {
    "none", "string", "short", "percent", "percentunit", "bytes", "decbytes", "bits", "Bps", "bps",
    "pps", "s", "ms", "dtdurations", "cps", "ops", "reqps", "iops", "dateTimeAsIso", "dateTimeFromNow",
}
CUSTOM_UNIT = re.compile(r"^(suffix|prefix|count|si):.+")
BUILTIN_VARS = {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s", "__range_ms",
                "__dashboard", "__from", "__to", "__name", "__org", "__user"}
VAR_USE = re.compile(r"\$\{?(\w+)")
RANGE = re.compile(r"\[([^\]]*)\]")
LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*(\w+)\s*\)\s*$")


def panels_of(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        for q in p.get("panels", []):  # panels inside a collapsed row
            yield q


def ds_uid(ds):
    return ds.get("uid") if isinstance(ds, dict) else ds


def variable_queries(dashboard):
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        text = q.get("query", "") if isinstance(q, dict) else (q or "")
        m = LABEL_VALUES.match(text)
        yield v["name"], (m.group(1) if m else text)


def check(path, dashboard):
    problems = []
    where = path

    def bad(msg):
        problems.append(f"{where}: {msg}")

    if dashboard.get("schemaVersion", 0) < 39:
        bad(f"schemaVersion {dashboard.get('schemaVersion')} < 39")
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        bad("no `datasource` variable of type datasource for Prometheus")
    if "instance" not in variables:
        bad("no `instance` variable")
    for name, v in variables.items():
        if v.get("type") == "query" and ds_uid(v.get("datasource")) != "${datasource}":
            bad(f"variable {name} does not use ${{datasource}}")
    exprs = []
    ids = set()
    for p in panels_of(dashboard):
        if p.get("type") == "row":
            continue
        where = f"{path}: panel {p.get('title')!r}"
        if p.get("id") in ids:
            bad(f"duplicate panel id {p.get('id')}")
        ids.add(p.get("id"))
        if not p.get("description", "").strip():
            bad("no description")
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not unit:
            bad("no unit")
        elif unit not in KNOWN_UNITS and not CUSTOM_UNIT.match(unit):
            bad(f"unknown unit {unit!r}")
        if ds_uid(p.get("datasource")) != "${datasource}":
            bad("panel datasource is not ${datasource}")
        if not p.get("targets"):
            bad("no queries")
        for t in p.get("targets", []):
            if ds_uid(t.get("datasource")) != "${datasource}":
                bad(f"query {t.get('refId')}: datasource is not ${{datasource}}")
            expr = t.get("expr", "")
            if not expr.strip():
                bad(f"query {t.get('refId')}: empty")
                continue
            exprs.append(expr)
            if 'instance="$instance"' not in expr:
                bad(f"query {t.get('refId')}: does not filter on instance=\"$instance\"")
            if "name" in variables and dashboard.get("uid") == "porto-container" and 'name="$name"' not in expr:
                bad(f"query {t.get('refId')}: does not filter on name=\"$name\"")
            for rng in RANGE.findall(expr):
                if rng == "$__rate_interval":
                    continue
                if rng == "$__range" and re.search(r"increase\([^\[]*\[\$__range\]", expr):
                    continue
                bad(f"query {t.get('refId')}: range [{rng}] is not [$__rate_interval]")
            if re.search(r"\b(rate|irate)\(", expr) and "$__rate_interval" not in expr:
                bad(f"query {t.get('refId')}: rate without $__rate_interval")
    where = path
    for _, q in variable_queries(dashboard):
        exprs.append(q)
    for expr in exprs:
        for used in VAR_USE.findall(expr):
            # $1...$9 are label_replace's capture groups: Grafana leaves an unknown name as it is.
            if used.isdigit():
                continue
            if used not in variables and used not in BUILTIN_VARS:
                bad(f"variable ${used} used but not defined in: {expr}")
    if not ids:
        bad("no panels")
    return problems


def substitute(expr, values):
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values.get(m.group(1) or m.group(2), m.group(0)), expr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", action="store_true", help="print the queries as JSON lines")
    ap.add_argument("--set", action="append", default=[], metavar="VAR=VALUE")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or sorted(glob.glob("dashboards/*.json"))
    values = dict(s.split("=", 1) for s in args.set)
    problems = []
    if not files:
        problems.append("no dashboards found")
    for path in files:
        with open(path) as f:
            dashboard = json.load(f)
        problems += check(path, dashboard)
        if args.queries:
            for p in panels_of(dashboard):
                for t in p.get("targets", []):
                    print(json.dumps({"dashboard": path, "panel": p.get("title"), "id": p.get("id"), "ref": t.get("refId"),
                                      "expr": substitute(t.get("expr", ""), values)}))
            for name, q in variable_queries(dashboard):
                print(json.dumps({"dashboard": path, "panel": f"variable {name}", "ref": "var",
                                  "expr": substitute(q, values)}))
    for p in problems:
        print(p, file=sys.stderr)
    if not args.queries:
        print(f"{len(files)} dashboards checked" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
