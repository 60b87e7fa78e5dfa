#!/usr/bin/env bash
# End to end with a real Prometheus (Debian's prometheus): porto-sim, porto-exporter scraping it,
# and Prometheus scraping the exporter every second with rules/ loaded. dev/e2e-prometheus.py
# then checks that the target is up, that every dashboard query and every rule expression returns
# data, and that an OOM kill, a failed start and a portod restart made to happen in porto-sim
# (its control socket) make their alerts fire; at the end, stopping porto-sim and then the exporter
# makes the two "down" alerts pending. Everything started here is stopped on exit.
#
#   bash dev/ci.d/90-e2e-prometheus.sh        (E2E_KEEP=1 keeps the temp dir with the logs)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

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
PORTO_EXPORTER_REVISION="$revision" "$bin/porto-exporter" --porto.socket "$tmp/portod.socket" \
  --web.listen-address "127.0.0.1:$exporter_port" > "$tmp/porto-exporter.log" 2>&1 &
exporter_pid=$!
pids+=("$exporter_pid")
wait_for 30 "porto-exporter serving /metrics" curl -sf "http://127.0.0.1:$exporter_port/metrics"

prometheus_port="$(free_port)"
cat > "$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $root/rules/*.rules.yml
scrape_configs:
  - job_name: porto
    static_configs:
      - targets: ["127.0.0.1:$exporter_port"]
YAML
promtool check config "$tmp/prometheus.yml" >/dev/null
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn > "$tmp/prometheus.log" 2>&1 &
pids+=($!)

python3 dev/e2e-prometheus.py --prometheus "http://127.0.0.1:$prometheus_port" \
  --control "$tmp/control.socket" --job porto --sim-pid "$sim_pid" --exporter-pid "$exporter_pid" \
  --revision "$revision"
