"""The sd_notify client against real AF_UNIX datagram sockets, as systemd listens."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from modeld.service.sdnotify import Notifier, socket_address, watchdog_usec


@pytest.fixture
def notify_socket():
    """A bound datagram socket in a short /tmp path (sun_path is at most 108 bytes)."""
    folder = tempfile.mkdtemp(dir="/tmp", prefix="sdn-")
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield path, sock
    sock.close()
    shutil.rmtree(folder)


def received(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_messages_arrive_as_systemd_reads_them(notify_socket):
    path, sock = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled

    assert notifier.ready(status="watching 2 folders")
    assert received(sock) == ["READY=1", "STATUS=watching 2 folders"]
    assert notifier.status("importing sd_xl_base.safetensors")
    assert received(sock) == ["STATUS=importing sd_xl_base.safetensors"]
    assert notifier.watchdog_ping()
    assert received(sock) == ["WATCHDOG=1"]
    assert notifier.extend_timeout(20)
    assert received(sock) == ["EXTEND_TIMEOUT_USEC=20000000"]
    assert notifier.stopping()
    assert received(sock) == ["STOPPING=1"]
    notifier.close()


def test_a_status_with_newlines_stays_one_assignment(notify_socket):
    path, sock = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": path})
    notifier.status("first line\nREADY=1\n\tthird")
    assert received(sock) == ["STATUS=first line READY=1 third"]


def test_abstract_socket_name_starting_with_at():
    name = f"modeld-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(5)
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
        assert notifier.ready()
        assert received(sock) == ["READY=1"]
    assert socket_address("@x") == b"\0x"
    assert socket_address("/run/x") == "/run/x"


def test_the_environment_is_cleared_for_children(notify_socket):
    path, _ = notify_socket
    environ = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}
    notifier = Notifier(environ)
    assert environ == {}
    assert notifier.watchdog_interval() == 30.0  # half of WatchdogSec=60

    kept = {"NOTIFY_SOCKET": path}
    Notifier(kept, unset=False)
    assert kept == {"NOTIFY_SOCKET": path}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "60000000"}, 60_000_000),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "{pid}"}, 60_000_000),
        # set for another process (a parent's variables leaked to us): not ours
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "me"}, None),
    ],
)
def test_watchdog_enabled_rules(environ, expected):
    pid = os.getpid()
    environ = {k: v.format(pid=pid) for k, v in environ.items()}
    assert watchdog_usec(environ, pid) == expected


def test_no_watchdog_interval_without_a_notify_socket():
    notifier = Notifier({"WATCHDOG_USEC": "60000000"})
    assert not notifier.enabled
    assert notifier.watchdog_interval() is None


def test_outside_systemd_every_call_is_a_no_op():
    notifier = Notifier({})
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog_ping() is False
    assert notifier.stopping() is False


def test_a_vanished_manager_is_logged_once_and_never_raises(notify_socket, caplog):
    path, sock = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": path})
    sock.close()
    Path(path).unlink()
    with caplog.at_level(logging.WARNING, logger="modeld.service.sdnotify"):
        assert notifier.ready() is False
        assert notifier.watchdog_ping() is False
    warnings = [r for r in caplog.records if "cannot notify" in r.getMessage()]
    assert len(warnings) == 1


def test_unsupported_socket_kinds_disable_notifications(caplog):
    with caplog.at_level(logging.WARNING, logger="modeld.service.sdnotify"):
        notifier = Notifier({"NOTIFY_SOCKET": "vsock:2:1234"})
    assert not notifier.enabled
    assert "unsupported" in caplog.text


def test_pings_from_several_threads_all_arrive(notify_socket):
    path, sock = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": path})
    threads = [threading.Thread(target=notifier.watchdog_ping) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [sock.recv(64) for _ in range(8)] == [b"WATCHDOG=1"] * 8
