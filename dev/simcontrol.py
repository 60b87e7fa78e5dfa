"""porto-sim's control socket (porto-sim --control PATH), shared by the dev/*.py scripts.

One line command per connection ("fault delay 50ms", "oom NAME", "restart", ...); porto-sim
answers one line: "ok", "error: ...", or a value.
"""
import socket


def send(path, line, timeout=5):
    """Sends one command line and returns porto-sim's answer without its newline."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall((line + "\n").encode())
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.decode().strip()
