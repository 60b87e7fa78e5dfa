#!/usr/bin/env bash
# Builds the exporter and runs it: against the local portod when /run/portod.socket exists,
# otherwise against porto-sim, so that a newcomer sees real metrics in a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && ! pkg-config --exists libmicrohttpd yaml-0.1 libisal 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmicrohttpd-dev libgnutls28-dev libyaml-dev pkg-config libisal-dev libcrypt-dev >/dev/null
fi
# The Swift runtime linked in (as in the Dockerfile): 4-5 MB less RSS than loading
# it as shared libraries (dev/footprint.sh).
swift build -c release --static-swift-stdlib   # the exporter and porto-sim
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)"
socket="${PORTO_SOCKET:-/run/portod.socket}"
if [ ! -S "$socket" ]; then
  . dev/lib/processes.sh
  processes_init run   # stops porto-sim and removes $work when the exporter exits
  socket="$work/portod.socket"
  echo "no portod at /run/portod.socket: starting porto-sim at $socket"
  start_sim "$bin/porto-sim" --containers "${PORTO_SIM_CONTAINERS:-50}"
fi
echo "porto-exporter: metrics at http://localhost:9658/metrics (unless --web.listen-address says otherwise); Ctrl-C stops"
# Not exec: the exit trap must stop porto-sim when the exporter exits.
# porto_exporter_build_info{revision}: this checkout's commit, unless the caller set one.
PORTO_EXPORTER_REVISION="${PORTO_EXPORTER_REVISION:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}" \
  "$bin/porto-exporter" --porto.socket "$socket" "$@"
