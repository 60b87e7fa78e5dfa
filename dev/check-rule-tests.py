#!/usr/bin/env python3
"""Checks that rules/tests/*.yml covers every alert of rules/*.rules.yml both ways: at least one
alert_rule_test where it fires (non-empty exp_alerts) and one where it must not (empty exp_alerts),
and that every alert has a severity label and summary/description annotations.

Usage: dev/check-rule-tests.py [RULES_DIR]   (default: rules)
"""
import glob
import os
import sys

import yaml


def main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else "rules"
    problems = []
    alerts = {}
    for path in sorted(glob.glob(os.path.join(root, "*.rules.yml"))):
        with open(path) as f:
            for group in yaml.safe_load(f)["groups"]:
                for rule in group["rules"]:
                    if "alert" not in rule:
                        continue
                    name = rule["alert"]
                    alerts[name] = {"fires": False, "quiet": False}
                    if rule.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
                        problems.append(f"{name}: severity label missing or not critical/warning/info")
                    for key in ("summary", "description"):
                        if not rule.get("annotations", {}).get(key):
                            problems.append(f"{name}: annotation {key} missing")
    if not alerts:
        problems.append(f"no alerts found in {root}/*.rules.yml")
    for path in sorted(glob.glob(os.path.join(root, "tests", "*.yml"))):
        with open(path) as f:
            for test in yaml.safe_load(f).get("tests", []):
                for case in test.get("alert_rule_test", []):
                    name = case["alertname"]
                    if name not in alerts:
                        problems.append(f"{path}: test for unknown alert {name}")
                        continue
                    alerts[name]["fires" if case.get("exp_alerts") else "quiet"] = True
    for name, seen in sorted(alerts.items()):
        if not seen["fires"]:
            problems.append(f"{name}: no test shows it firing")
        if not seen["quiet"]:
            problems.append(f"{name}: no test shows it not firing")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(alerts)} alerts, each tested firing and not firing" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
