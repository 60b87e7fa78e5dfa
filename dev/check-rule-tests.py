#!/usr/bin/env python3
"""Checks that rules/tests/*.yml covers every alert of rules/*.rules.yml both ways: at least one
alert_rule_test where it fires (non-empty exp_alerts) and one where it must not (empty exp_alerts),
and that every alert has a `for:`, a severity label, summary/description annotations, and a
runbook_url `docs/runbooks.md#<alert in lower case>` whose section exists in docs/runbooks.md
and says what the alert means (**Meaning.**), how to check it with portoctl (**Check.**) and what
to do (**Action.**); and that docs/runbooks.md has no section for an alert that does not exist.

Usage: dev/check-rule-tests.py [RULES_DIR]   (default: rules; the runbooks are ../docs/runbooks.md)
"""
import glob
import os
import re
import sys

import yaml


def runbook_sections(path):
    """{anchor: section text} for each `## Heading` of the runbooks file (GitHub's anchors)."""
    sections = {}
    if not os.path.exists(path):
        return sections
    heading = None
    for line in open(path):
        m = re.match(r"## (.+)", line)
        if m:
            heading = re.sub(r"[^a-z0-9 _-]", "", m.group(1).strip().lower()).replace(" ", "-")
            sections[heading] = ""
        elif heading:
            sections[heading] += line
    return sections


def main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else "rules"
    runbooks_path = os.path.join(root, "..", "docs", "runbooks.md")
    runbooks = runbook_sections(runbooks_path)
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
                    if "for" not in rule:
                        problems.append(f"{name}: no `for:` (write `for: 0m` for an event)")
                    url = rule.get("annotations", {}).get("runbook_url", "")
                    anchor = name.lower()
                    if url != f"docs/runbooks.md#{anchor}":
                        problems.append(f"{name}: runbook_url {url!r} is not docs/runbooks.md#{anchor}")
                    elif anchor not in runbooks:
                        problems.append(f"{name}: no section `## {name}` in {runbooks_path}")
                    else:
                        for part in ("**Meaning.**", "**Check.**", "**Action.**"):
                            if part not in runbooks[anchor]:
                                problems.append(f"{name}: its runbook section has no {part}")
                        if "portoctl" not in runbooks[anchor] and "curl" not in runbooks[anchor]:
                            problems.append(f"{name}: its runbook section shows no portoctl (or curl) command")
    if not alerts:
        problems.append(f"no alerts found in {root}/*.rules.yml")
    for anchor in runbooks:
        if anchor not in {a.lower() for a in alerts}:
            problems.append(f"{runbooks_path}: section {anchor!r} is not an alert")
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
    print(f"{len(alerts)} alerts, each tested firing and not firing, each with its runbook" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
