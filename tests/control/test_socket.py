"""The control socket end to end: a real ControlServer on a real unix socket, real clients."""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modeld.control import events
from modeld.control.bus import EventBus
from modeld.control.client import DaemonError, DaemonNotRunning, call, subscribe
from modeld.control.protocol import MAX_LINE
from modeld.control.server import ControlServer, SocketInUse, prepare_socket_path


class Daemon:
    """Just enough of a daemon: a counter behind `status`, and an event bus."""

    def __init__(self, socket_path: Path):
        self.events = EventBus()
        self.imported = 0
        self.during_status: list[events.Event] = []  # events published while status is read
        self.server = ControlServer(
            socket_path,
            {"status": self.status, "echo": lambda r: r["text"], "bad": self.bad},
            self.events,
        )

    def status(self, _request: dict[str, Any]) -> dict[str, Any]:
        snapshot = {"imported": self.imported}
        while self.during_status:
            self.publish(self.during_status.pop(0))
        return snapshot

    def publish(self, event: events.Event) -> None:
        if isinstance(event, events.Imported):
            self.imported += 1
        self.events.publish(event)

    @staticmethod
    def bad(_request: dict[str, Any]) -> Any:
        raise ValueError("no model with id 'nope'")


@pytest.fixture
def sock(home: Path) -> Path:
    return home / "state" / "control.sock"


@pytest.fixture
def daemon(sock: Path) -> Iterator[Daemon]:
    daemon = Daemon(sock)
    daemon.server.start()
    yield daemon
    daemon.server.stop()


def test_the_socket_is_private_to_its_owner(daemon: Daemon, sock: Path):
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700


def test_calls_return_results_and_errors_in_one_line(daemon: Daemon, sock: Path):
    assert call(sock, "echo", text="héllo") == "héllo"
    with pytest.raises(DaemonError, match="no model with id 'nope'"):
        call(sock, "bad")
    with pytest.raises(DaemonError, match="unknown command 'fly'"):
        call(sock, "fly")


def test_an_oversized_request_is_refused_and_the_server_goes_on(daemon: Daemon, sock: Path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
        raw.settimeout(10)
        raw.connect(str(sock))
        with contextlib.suppress(BrokenPipeError):  # the server stops reading at the cap
            raw.sendall(b"x" * (MAX_LINE + 70000))
        reply = raw.recv(65536)
    assert json.loads(reply) == {"ok": False, "error": f"request exceeds the {MAX_LINE}-byte cap"}
    assert call(sock, "status") == {"imported": 0}


def test_no_daemon_is_a_clear_error(sock: Path):
    with pytest.raises(DaemonNotRunning, match="no daemon is running"):
        call(sock, "status")


def test_a_subscription_starts_with_status_then_streams_events(daemon: Daemon, sock: Path):
    daemon.publish(events.Imported("/drop/a", {"id": "a"}))
    with subscribe(sock, timeout=5) as subscription:
        assert subscription.status == {"imported": 1}
        daemon.publish(events.Imported("/drop/b", {"id": "b"}))
        daemon.publish(events.Quarantined("/x.pt", "os.system"))
        first, second = itertools.islice(subscription.events, 2)
    assert first["event"] == "imported" and first["model"] == {"id": "b"}
    assert second == {"event": "quarantined", "path": "/x.pt", "reason": "os.system",
                      "time": second["time"]}  # fmt: skip


def test_a_change_while_the_snapshot_is_taken_still_arrives(daemon: Daemon, sock: Path):
    # the import lands after the snapshot counted, but before the reply left:
    # it must come as an event, or the subscriber would never hear of it
    daemon.during_status.append(events.Imported("/drop/late", {"id": "late"}))
    with subscribe(sock, timeout=5) as subscription:
        assert subscription.status == {"imported": 0}
        event = next(subscription.events)
    assert event["event"] == "imported" and event["model"] == {"id": "late"}


def test_the_stream_ends_when_the_daemon_stops(daemon: Daemon, sock: Path):
    with subscribe(sock, timeout=5) as subscription:
        daemon.server.stop()
        assert list(subscription.events) == []


def test_a_stale_socket_is_cleared_but_a_live_one_is_kept(daemon: Daemon, sock: Path, home: Path):
    with pytest.raises(SocketInUse):
        prepare_socket_path(sock)
    assert call(sock, "status") == {"imported": 0}

    stale = home / "state" / "stale.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(stale))
    dead.close()  # the file stays behind, as after a crash
    assert stale.exists()
    prepare_socket_path(stale)
    assert not stale.exists()
