# Sourced by the dev scripts that run porto-sim and porto-exporter as processes (footprint.sh,
# link-order.sh, soak.sh): one work directory, cleanup on exit, and the two start-up waits.
#
#   processes_init NAME              $work = a new /tmp/porto-NAME.XXXXXX; on exit the exporter and
#                                    porto-sim are stopped and $work is removed. NAME prefixes errors.
#   start_sim BINARY [FLAGS...]      porto-sim serving $work/portod.socket (log: $work/sim.log);
#                                    sets $sim_pid; fails unless the socket appears within 10 s
#   wait_for_listening_port          the port from the exporter's "msg=listening" line in
#                                    $work/exporter.log (for --web.listen-address 127.0.0.1:0);
#                                    prints it, or fails after $1 tenths of a second (default 300)
processes_init() {
  processes_name=$1
  work=$(mktemp -d "/tmp/porto-$1.XXXXXX")
  sim_pid='' exporter_pid=''
  trap processes_cleanup EXIT
}

processes_cleanup() {
  [ -n "$exporter_pid" ] && kill "$exporter_pid" 2>/dev/null && wait "$exporter_pid" 2>/dev/null || true
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}

start_sim() {
  "$1" --socket "$work/portod.socket" "${@:2}" >"$work/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do [ -S "$work/portod.socket" ] && return 0; sleep 0.1; done
  cat "$work/sim.log"
  echo "$processes_name: porto-sim did not start" >&2
  exit 1
}

wait_for_listening_port() {
  local port=''
  for _ in $(seq "${1:-300}"); do
    port=$(sed -n 's/.*msg=listening address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/exporter.log" | head -1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  cat "$work/exporter.log" >&2
  echo "$processes_name: the exporter did not start" >&2
  exit 1
}
