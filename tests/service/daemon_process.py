"""Start a real `modeld run` the way systemd does and listen to what it tells systemd.

Shared by the sd_notify end-to-end test and the packaging smoke tests (which
load this file by path): a bound AF_UNIX datagram socket is the NOTIFY_SOCKET,
exactly as systemd's manager provides it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# bounds for a hung daemon, not timing assertions: a healthy start takes ~1 s
START_BOUND = 60.0
STOP_BOUND = 40.0


class NotifyListener:
    """A datagram socket in a short /tmp path (sun_path is at most 108 bytes)."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(dir="/tmp", prefix="ntf-")
        self.path = os.path.join(self.folder, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages: list[list[str]] = []

    def wait_for(
        self, field: str, bound: float, process: subprocess.Popen | None = None
    ) -> list[str]:
        """Read datagrams until one carries `field` (e.g. "READY=1"); returns that message.

        Gives up after `bound` seconds, or as soon as `process` has exited.
        """
        self.sock.settimeout(0.2)
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                if process is not None and process.poll() is not None:
                    break
                continue
            message = data.decode().split("\n")
            self.messages.append(message)
            if field in message:
                return message
        seen = [m for message in self.messages for m in message]
        raise AssertionError(f"no {field} (bound {bound} s, or the process ended); got {seen}")

    def close(self) -> None:
        self.sock.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> NotifyListener:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_config(folder: Path) -> tuple[Path, Path]:
    """A config that keeps everything inside `folder` (state in a short /tmp dir); offline."""
    state = Path(tempfile.mkdtemp(dir="/tmp", prefix="mds-"))
    drop = folder / "drop"
    drop.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(
        f'[library]\nroot = "{folder / "library"}"\n\n'
        f'[daemon]\nstate_dir = "{state}"\n\n'
        f'[[watch]]\npath = "{drop}"\nmode = "move"\n\n'
        "[hub]\nenabled = false\n\n[tray]\nenabled = false\n"
    )
    return config, state


def service_environment(home: Path, notify_path: str, watchdog_usec: int | None) -> dict[str, str]:
    """What systemd gives a user service: a small environment plus the notify variables."""
    env = {
        "PATH": os.defpath,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "NOTIFY_SOCKET": notify_path,
        "HF_HUB_OFFLINE": "1",
        "XDG_RUNTIME_DIR": str(home),
    }
    if watchdog_usec is not None:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    return env


def run_until_ready(
    command: list[str], config: Path, home: Path, listener: NotifyListener, watchdog_usec=None
) -> subprocess.Popen:
    # output goes to a file, not a pipe: nobody reads a pipe while the daemon runs,
    # and a full one would block its logging (and so the daemon) on a write
    output = open(home / "daemon-output.log", "w+")  # noqa: SIM115  (closed in stop())
    process = subprocess.Popen(
        [*command, "--config", str(config), "run"],
        env=service_environment(home, listener.path, watchdog_usec),
        cwd="/",
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.output = output  # type: ignore[attr-defined]
    try:
        listener.wait_for("READY=1", START_BOUND, process)
    except AssertionError:
        process.kill()
        process.wait(timeout=STOP_BOUND)
        raise AssertionError(f"modeld never became ready; output:\n{_output(process)}") from None
    return process


def _output(process: subprocess.Popen) -> str:
    output = process.output  # type: ignore[attr-defined]
    output.flush()
    output.seek(0)
    text = output.read()
    output.close()
    return text


def stop(process: subprocess.Popen, listener: NotifyListener) -> tuple[int, str]:
    """SIGTERM, as `systemctl stop` sends; returns (exit code, output).

    If the daemon does not acknowledge it, its threads' stacks (SIGUSR1, which
    `modeld run` answers with a faulthandler dump) go into the failure message.
    """
    process.send_signal(signal.SIGTERM)
    try:
        listener.wait_for("STOPPING=1", STOP_BOUND, process)
        process.wait(timeout=STOP_BOUND)
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        if process.poll() is None:
            process.send_signal(signal.SIGUSR1)
            time.sleep(2)
            process.kill()
            process.wait()
        raise AssertionError(f"{exc}\nmodeld's output and stacks:\n{_output(process)}") from None
    return process.returncode, _output(process)


@contextmanager
def daemon_setup(folder: Path) -> Iterator[tuple[Path, Path, NotifyListener]]:
    """write_config's config and state folder, and a NotifyListener; the /tmp state goes after."""
    config, state = write_config(folder)
    try:
        with NotifyListener() as listener:
            yield config, state, listener
    finally:
        shutil.rmtree(state, ignore_errors=True)


def smoke_run(command: list[str], folder: Path, home: Path | None = None) -> None:
    """A short `modeld run` (HOME: `home`, else `folder`): ready, then exit 0 on SIGTERM."""
    with daemon_setup(folder) as (config, _state, listener):
        process = run_until_ready(command, config, home or folder, listener)
        code, output = stop(process, listener)
    assert code == 0, output
