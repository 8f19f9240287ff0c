"""The daemon's control socket: a unix socket, owner-only, newline-delimited JSON.

Security is the file system's: the state dir is 0700 and the socket 0600,
and on Linux the peer's uid is checked as well (SO_PEERCRED). Each
connection gets a thread; a `subscribe` connection gets a status snapshot and
then the event stream until it closes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modeld.control.bus import EventBus
from modeld.control.errors import ProtocolError, SocketInUse
from modeld.control.protocol import MAX_LINE, VERSION, decode, encode

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Any]
MAX_CONNECTIONS = 32


def prepare_socket_path(path: Path) -> None:
    """Make the 0700 state dir and clear a stale socket left by a crash.

    A socket file is only removed after a connection attempt to it fails, so a
    live daemon's socket is never stolen.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    if not (path.exists() or path.is_symlink()):
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except OSError:
        log.info("removing stale control socket %s", path)
        path.unlink()
    else:
        raise SocketInUse(f"another modeld is already listening on {path}")
    finally:
        probe.close()


def _peer_uid(conn: socket.socket) -> int | None:
    if not hasattr(socket, "SO_PEERCRED"):
        return None  # macOS: the 0600 socket and 0700 folder are the guard
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    uid: int
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


class ControlServer:
    def __init__(self, path: Path, handlers: dict[str, Handler], events: EventBus):
        self.path = path
        self.handlers = handlers
        self.events = events
        self._sock: socket.socket | None = None
        self._stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        prepare_socket_path(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket is born 0600, never briefly wider
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        sock.listen(16)
        sock.settimeout(0.5)
        self._sock = sock
        self._thread = threading.Thread(target=self._accept_loop, name="control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if not self._stopping.is_set():
                    log.exception("control socket accept failed")
                return
            if not self._slots.acquire(blocking=False):
                self._reply_and_close(conn, {"ok": False, "error": "too many connections"})
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _reply_and_close(self, conn: socket.socket, reply: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(encode(reply))
        conn.close()

    def _serve(self, conn: socket.socket) -> None:
        try:
            uid = _peer_uid(conn)
            if uid is not None and uid != os.getuid():
                log.warning("refused control connection from uid %d", uid)
                self._reply_and_close(conn, {"ok": False, "error": "permission denied"})
                return
            conn.settimeout(30)
            request = decode(self._read_line(conn))
            if request.get("cmd") == "subscribe":
                self._stream_events(conn)
                return
            conn.sendall(encode(self._dispatch(request)))
        except ProtocolError as exc:
            self._reply_and_close(conn, {"ok": False, "error": str(exc)})
        except OSError:
            pass  # the client went away
        finally:
            conn.close()
            self._slots.release()

    @staticmethod
    def _read_line(conn: socket.socket) -> bytes:
        buffer = b""
        while b"\n" not in buffer:
            if len(buffer) > MAX_LINE:
                raise ProtocolError(f"request exceeds the {MAX_LINE}-byte cap")
            chunk = conn.recv(65536)
            if not chunk:
                break
            buffer += chunk
        return buffer.split(b"\n", 1)[0]

    def _dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("v") != VERSION:
            return {"ok": False, "error": f"unsupported protocol version {request.get('v')!r}"}
        handler = self.handlers.get(str(request.get("cmd")))
        if handler is None:
            return {"ok": False, "error": f"unknown command {request.get('cmd')!r}"}
        try:
            return {"ok": True, "result": handler(request)}
        except ValueError as exc:  # a bad argument: the client's fault, said plainly
            return {"ok": False, "error": str(exc)}
        except Exception as exc:
            log.exception("control command %s failed", request.get("cmd"))
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}

    def _stream_events(self, conn: socket.socket) -> None:
        # registered before the snapshot is taken: a change between the two arrives as an event
        subscription = self.events.subscribe()
        try:
            status_handler = self.handlers.get("status")
            snapshot = status_handler({"v": VERSION, "cmd": "status"}) if status_handler else {}
            conn.settimeout(None)
            conn.sendall(encode({"ok": True, "result": {"status": snapshot}}))
            while not self._stopping.is_set():
                try:
                    event = subscription.get(timeout=0.5)
                except queue.Empty:
                    continue
                conn.sendall(encode(event))
        finally:
            self.events.unsubscribe(subscription)
