"""Local network helpers for tests that start servers (SMTP, `meetups serve`, the mail catcher)."""

import socket

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on now: for a server a test starts, or for "the server is down"."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
