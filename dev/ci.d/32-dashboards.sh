#!/usr/bin/env bash
# Grafana dashboards: structure (dev/check-dashboards.py: units, descriptions, datasource variable,
# $__rate_interval, variables), and every query parsed by Prometheus's own parser (promtool check
# rules on a throwaway rule file holding each query). dev/ci.d/90-e2e-prometheus.sh runs them.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 dev/check-dashboards.py
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 dev/check-dashboards.py --queries --set instance=host:9 --set name=web \
  --set __rate_interval=1m --set __range=1h > "$tmp/queries.jsonl"
python3 - "$tmp/queries.jsonl" > "$tmp/queries.rules.yml" <<'PY'
import json, sys
print("groups:\n  - name: dashboard-queries\n    rules:")
for i, line in enumerate(open(sys.argv[1])):
    q = json.loads(line)
    print(f"      - record: dashboard_query_{i}\n        expr: {json.dumps(q['expr'])}")
PY
echo "$(wc -l < "$tmp/queries.jsonl") dashboard queries"
promtool check rules "$tmp/queries.rules.yml"
