#!/usr/bin/env bash
# End to end with a real Prometheus (Debian's prometheus): porto-sim, porto-exporter scraping it,
# and Prometheus scraping the exporter every second, as a job not named "porto", with rules/
# loaded time-compressed (every duration divided by 60). dev/e2e-prometheus.py then drives
# porto-sim through each failure its control socket can make and checks that the matching alert
# fires and clears, that every dashboard query returns data for a first-level and a nested
# container, and that every rule is healthy and reads series that exist; at the end it stops the
# exporter (PortoExporterDown fires) and starts it again (it clears). Everything started here is
# stopped on exit.
#
#   bash dev/ci.d/90-e2e-prometheus.sh        (E2E_KEEP=1 keeps the temp dir with the logs)
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v prometheus >/dev/null || { echo "prometheus missing (Debian package prometheus, dev/apt-packages.txt)" >&2; exit 1; }
bin="$(dev/ci-bin.sh)"   # .ci/run's debug build, or built here when run alone

tmp="$(mktemp -d)"
pids=()
cleanup() {
  status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" != 0 ]; then
    for f in "$tmp"/*.log; do
      [ -e "$f" ] || continue
      echo "---- last lines of $(basename "$f")" >&2
      tail -n 30 "$f" >&2
    done
  fi
  if [ -n "${E2E_KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. dev/lib/processes.sh   # free_port, start_sim
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds="$1" what="$2"
  shift 2
  for _ in $(seq $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "e2e: FAILED: $what within $seconds s" >&2
  return 1
}

work="$tmp" processes_name=e2e
start_sim "$bin/porto-sim" --control "$tmp/control.socket" --containers 30 --seed 5
pids+=("$sim_pid")

exporter_port="$(free_port)"
# The revision, as dev/run.sh and the Dockerfile pass it; e2e-prometheus.py checks build_info has it.
revision="$(git rev-parse --short=12 HEAD 2>/dev/null || echo e2e)"
export PORTO_EXPORTER_REVISION="$revision"
exporter=("$bin/porto-exporter" --porto.socket "$tmp/portod.socket" --web.listen-address "127.0.0.1:$exporter_port")
"${exporter[@]}" > "$tmp/porto-exporter.log" 2>&1 &
exporter_pid=$!
pids+=("$exporter_pid")
wait_for 30 "porto-exporter serving /metrics" curl -sf "http://127.0.0.1:$exporter_port/metrics"

mkdir "$tmp/rules"
for f in rules/*.rules.yml; do
  python3 dev/e2e-prometheus.py compress-rules "$f" "$tmp/rules/$(basename "$f")"
done
promtool check rules "$tmp"/rules/*.rules.yml >/dev/null

prometheus_port="$(free_port)"
# The job is deliberately not called "porto": the alerts must not depend on its name.
job=e2e-hosts
cat > "$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $tmp/rules/*.rules.yml
scrape_configs:
  - job_name: $job
    static_configs:
      - targets: ["127.0.0.1:$exporter_port"]
YAML
promtool check config "$tmp/prometheus.yml" >/dev/null
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn > "$tmp/prometheus.log" 2>&1 &
pids+=($!)

python3 dev/e2e-prometheus.py --prometheus "http://127.0.0.1:$prometheus_port" \
  --control "$tmp/control.socket" --job "$job" --revision "$revision" \
  --exporter-pid "$exporter_pid" --exporter-log "$tmp/porto-exporter.log" \
  --exporter-cmd "$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "${exporter[@]}")"
