"""What the dev scripts written in Python share (dev/lib/processes.sh is the shell side): a free
port, readings from /proc, and porto-sim started and waited for.

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))  # in dev/
    from processes import free_port, cpu_seconds, status_kib, open_fds, start_sim

`python3 dev/lib/processes.py free-port` prints a free port (processes.sh's free_port).
"""
import os
import socket
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    """A TCP port free on 127.0.0.1 now (nothing reserves it until a server binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of the whole process (every thread, living or exited), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()   # the name may hold spaces and parentheses
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kib(pid, *keys):
    """The values of `keys` (VmRSS, VmHWM, RssAnon, RssFile...) in /proc/PID/status, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in keys:
                out[key] = int(value.split()[0])
    return out


def open_fds(pid):
    """How many file descriptors the process has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def start_sim(binary, socket_path, *flags, log_path=None, timeout=30):
    """porto-sim serving `socket_path` with `flags` (stderr to `log_path`); returns its Popen once
    the socket, and a `--control` socket named in `flags`, exist. Exits with a message when
    porto-sim stops or `timeout` seconds pass first."""
    flags = [str(f) for f in flags]
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen([binary, "--socket", socket_path, *flags], stdout=subprocess.DEVNULL, stderr=log)
    paths = [socket_path] + [flags[i + 1] for i, f in enumerate(flags[:-1]) if f == "--control"]
    deadline = time.monotonic() + timeout
    while not all(os.path.exists(p) for p in paths):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit(f"porto-sim did not start (exit status {proc.wait()}; log: {log_path or 'none'})")
        time.sleep(0.1)
    return proc


if __name__ == "__main__" and sys.argv[1:] == ["free-port"]:
    print(free_port())
