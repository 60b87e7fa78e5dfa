# Sourced by the dev scripts that run porto-sim and porto-exporter as processes (run.sh,
# footprint.sh, link-order.sh, soak.sh, ci.d/20-exposition.sh, ci.d/90-e2e-prometheus.sh): one work
# directory, cleanup on exit, the start-up waits, a free port and /proc readings. processes.py is
# the same for the scripts written in Python (bench-e2e.py, bench-concurrent.sh, soak.sh's scrapes,
# bench-lagging-reader.py).
#
#   processes_init NAME              $work = a new /tmp/porto-NAME.XXXXXX; on exit the exporter and
#                                    porto-sim are stopped and $work is removed. NAME prefixes errors.
#   start_sim BINARY [FLAGS...]      porto-sim serving $work/portod.socket (log: $work/sim.log);
#                                    sets $sim_pid; fails unless the socket (and the --control
#                                    socket among FLAGS) appear within 30 s. Needs only $work set.
#   wait_for_listening_port          the port from the exporter's "msg=listening" line in
#                                    $work/exporter.log (for --web.listen-address 127.0.0.1:0);
#                                    prints it, or fails after $1 tenths of a second (default 300)
#   free_port                        prints a TCP port free on 127.0.0.1 now
#   status_kib PID KEY...            prints the /proc/PID/status values KEY (VmRSS, VmHWM, RssAnon,
#                                    RssFile...) in KiB, separated by spaces
#   cpu_ticks PID                    prints utime + stime of PID in clock ticks
processes_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

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
  local sockets=("$work/portod.socket") previous='' flag ready
  for flag in "${@:2}"; do
    [ "$previous" = --control ] && sockets+=("$flag")
    previous=$flag
  done
  "$1" --socket "$work/portod.socket" "${@:2}" >"$work/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 300); do
    ready=true
    for flag in "${sockets[@]}"; do [ -S "$flag" ] || ready=false; done
    $ready && return 0
    sleep 0.1
  done
  cat "$work/sim.log" >&2
  echo "${processes_name:-porto-sim}: porto-sim did not start" >&2
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

free_port() {
  python3 "$processes_lib/processes.py" free-port
}

status_kib() {
  local pid=$1
  shift
  awk -v keys="$*" 'BEGIN { n = split(keys, k, " ") }
    { v[$1] = $2 }
    END { for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? " " : ""), v[k[i] ":"] + 0; print "" }' "/proc/$pid/status"
}

cpu_ticks() {
  # The process name (field 2) may hold spaces: count the fields after its closing parenthesis.
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
