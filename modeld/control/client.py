"""Talk to a running daemon over its unix socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeld.control.errors import DaemonError, DaemonNotRunning, ProtocolError
from modeld.control.protocol import MAX_LINE, decode, encode, request


def _connect(socket_path: Path, timeout: float | None) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(socket_path))
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        sock.close()
        raise DaemonNotRunning(f"no daemon is running (socket {socket_path})") from exc
    except OSError:
        sock.close()
        raise
    return sock


def _lines(sock: socket.socket) -> Iterator[dict[str, Any]]:
    buffer = b""
    while True:
        newline = buffer.find(b"\n")
        if newline >= 0:
            line, buffer = buffer[:newline], buffer[newline + 1 :]
            yield decode(line)
            continue
        if len(buffer) > MAX_LINE:
            raise ProtocolError("reply exceeds the size cap")
        chunk = sock.recv(65536)
        if not chunk:
            return
        buffer += chunk


def call(socket_path: Path, cmd: str, timeout: float | None = 30.0, **arguments: Any) -> Any:
    """Send one request and return its result; raises DaemonNotRunning / DaemonError."""
    with _connect(socket_path, timeout) as sock:
        sock.sendall(encode(request(cmd, **arguments)))
        for reply in _lines(sock):
            if reply.get("ok"):
                return reply.get("result")
            raise DaemonError(str(reply.get("error", "unknown error")))
    raise DaemonError("the daemon closed the connection without a reply")


@dataclass
class Subscription:
    """An open event stream. `status` was taken after the stream began, so the
    events that follow bring it up to date and nothing falls in between."""

    status: dict[str, Any]
    events: Iterator[dict[str, Any]]  # ends when the daemon goes away


@contextmanager
def subscribe(socket_path: Path, timeout: float | None = None) -> Iterator[Subscription]:
    """Open an event stream; `timeout` bounds the connection and the first reply only."""
    with _connect(socket_path, timeout) as sock:
        sock.sendall(encode(request("subscribe")))
        lines = _lines(sock)
        first = next(lines, None)
        if first is None or not first.get("ok"):
            raise DaemonError(str((first or {}).get("error", "subscription refused")))
        sock.settimeout(None)  # events may be minutes apart
        yield Subscription(status=first["result"]["status"], events=lines)
