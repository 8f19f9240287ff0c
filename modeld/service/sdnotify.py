"""The systemd notification protocol, without a dependency.

A service started with `Type=notify` tells systemd it is ready by sending a
datagram such as ``READY=1`` to the AF_UNIX socket named in ``$NOTIFY_SOCKET``
(sd_notify(3)); a leading ``@`` in that name means a Linux abstract socket.
With `WatchdogSec=` set, systemd also passes ``WATCHDOG_USEC`` (and
``WATCHDOG_PID``) and kills the service if ``WATCHDOG=1`` does not arrive in
time; the service should ping at half that interval (sd_watchdog_enabled(3)).
systemd documents the protocol as stable and recommends reimplementing it.

Outside systemd (a terminal, launchd, a test) there is no ``$NOTIFY_SOCKET``
and every call is a cheap no-op, so the daemon can call the Notifier
unconditionally. Sending never raises: a lost notification is logged, and the
daemon keeps running.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping, MutableMapping

log = logging.getLogger(__name__)

NOTIFY_SOCKET = "NOTIFY_SOCKET"
WATCHDOG_USEC = "WATCHDOG_USEC"
WATCHDOG_PID = "WATCHDOG_PID"


def watchdog_usec(environ: Mapping[str, str], pid: int) -> int | None:
    """The watchdog timeout this process must honour, in microseconds, or None.

    Follows sd_watchdog_enabled(3): ``WATCHDOG_USEC`` must be a positive
    integer, and when ``WATCHDOG_PID`` is set it must name this process (the
    variables may have leaked from a parent that is the real watched service).
    """
    raw = environ.get(WATCHDOG_USEC)
    if not raw:
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("ignoring invalid %s=%r", WATCHDOG_USEC, raw)
        return None
    if usec <= 0:
        return None
    raw_pid = environ.get(WATCHDOG_PID)
    if raw_pid:
        try:
            if int(raw_pid) != pid:
                return None
        except ValueError:
            log.warning("ignoring invalid %s=%r", WATCHDOG_PID, raw_pid)
            return None
    return usec


def socket_address(name: str) -> str | bytes:
    """The address to send to: ``@name`` is the abstract socket ``\\0name``."""
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    return name


def _one_line(text: str) -> str:
    # The protocol is newline-separated VAR=value pairs: a newline in a status
    # text would start a new (bogus) assignment.
    return " ".join(text.split())


class Notifier:
    """Sends sd_notify messages to the service manager, if there is one.

    Build it once at start-up: `Notifier()` reads the process environment and
    then removes the variables from it, so that child processes do not inherit
    them and talk to systemd on the daemon's behalf (as sd_notify's
    unset_environment does).
    """

    def __init__(self, environ: MutableMapping[str, str] | None = None, unset: bool = True):
        environ = os.environ if environ is None else environ
        address = environ.get(NOTIFY_SOCKET) or None
        if address is not None and not address.startswith(("/", "@")):
            # e.g. "vsock:..." (systemd >= 254, inside VMs): not ours to speak
            log.warning("unsupported %s=%r: notifications disabled", NOTIFY_SOCKET, address)
            address = None
        self._watchdog_usec = watchdog_usec(environ, os.getpid())
        if unset:
            for name in (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID):
                environ.pop(name, None)
        self._address = socket_address(address) if address else None
        self._display_address = address
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when a service manager listens (the daemon runs under systemd)."""
        return self._address is not None

    def watchdog_interval(self) -> float | None:
        """Seconds between `watchdog_ping()` calls (half the timeout), or None when off."""
        if self._address is None or self._watchdog_usec is None:
            return None
        return self._watchdog_usec / 2 / 1_000_000

    def ready(self, status: str | None = None) -> bool:
        """Start-up is complete: index open, watches up, control socket listening."""
        return self.notify("READY=1", *self._status_fields(status))

    def status(self, text: str) -> bool:
        """A one-line state shown by `systemctl status` ("watching 3 folders, 2 queued")."""
        return self.notify(*self._status_fields(text))

    def watchdog_ping(self) -> bool:
        """The daemon is healthy; call every `watchdog_interval()` seconds."""
        return self.notify("WATCHDOG=1")

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more time to start or stop (e.g. a copy must finish first)."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={max(1, int(seconds * 1_000_000))}")

    def stopping(self, status: str | None = None) -> bool:
        """Shutdown has begun (on SIGTERM)."""
        return self.notify("STOPPING=1", *self._status_fields(status))

    def notify(self, *fields: str) -> bool:
        """Send ``VAR=value`` fields in one datagram; True when it was delivered."""
        if self._address is None or not fields:
            return False
        message = "\n".join(fields).encode()
        with self._lock:
            try:
                if self._socket is None:
                    self._socket = socket.socket(
                        socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                    )
                self._socket.sendto(message, self._address)
            except OSError as exc:
                # systemd went away or the socket is full: never fatal, say it once
                if not self._warned:
                    log.warning(
                        "cannot notify the service manager at %s: %s", self._display_address, exc
                    )
                    self._warned = True
                return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    @staticmethod
    def _status_fields(text: str | None) -> tuple[str, ...]:
        return () if text is None else (f"STATUS={_one_line(text)}",)
