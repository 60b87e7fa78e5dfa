#!/usr/bin/env bash
# Prometheus rules: syntax and lint (promtool check rules), unit tests (promtool test rules), and
# every alert covered by a firing and a not-firing case (dev/check-rule-tests.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v promtool >/dev/null || { echo "promtool missing (Debian package prometheus, dev/apt-packages.txt)" >&2; exit 1; }
promtool check rules rules/*.rules.yml
promtool test rules rules/tests/*.yml
python3 dev/check-rule-tests.py rules
