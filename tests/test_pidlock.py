"""The pid lock shared by the daemon and the tray, with real processes holding it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from modeld.pidlock import LockHeld, acquire

HOLDER = (
    "import sys\n"
    "from pathlib import Path\n"
    "from modeld.pidlock import acquire\n"
    "acquire(Path(sys.argv[1]))\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"  # holds the lock until its stdin closes, or until killed
)


def start_holder(path: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    return holder


def test_a_second_process_is_refused_and_told_the_holders_pid(tmp_path: Path):
    path = tmp_path / "state" / "modeld.lock"
    holder = start_holder(path)
    try:
        with pytest.raises(LockHeld) as refused:
            acquire(path)
        assert refused.value.pid == str(holder.pid)
        assert refused.value.path == path
        assert path.read_text() == str(holder.pid)  # the refusal wrote nothing
    finally:
        holder.communicate("")
    lock = acquire(path)  # the holder has gone: the lock is free again
    lock.release()


def test_a_file_left_by_a_killed_holder_does_not_block(tmp_path: Path):
    path = tmp_path / "tray.lock"
    holder = start_holder(path)
    holder.send_signal(signal.SIGKILL)  # no clean-up of any kind
    holder.wait()
    assert path.read_text() == str(holder.pid)  # the stale pid is still in the file
    lock = acquire(path)
    try:
        assert path.read_text() == str(os.getpid())
    finally:
        lock.release()


def test_a_stale_longer_pid_leaves_no_digits_behind(tmp_path: Path):
    path = tmp_path / "modeld.lock"
    path.write_text("9" * 20)  # written by some process long gone, never locked now
    lock = acquire(path)
    try:
        assert path.read_text() == str(os.getpid())
    finally:
        lock.release()


def test_our_own_second_attempt_is_refused_with_our_pid_until_released(tmp_path: Path):
    path = tmp_path / "modeld.lock"
    lock = acquire(path)
    with pytest.raises(LockHeld) as refused:
        acquire(path)
    assert refused.value.pid == str(os.getpid())
    lock.release()
    lock.release()  # twice is harmless (shutdown paths may both reach it)
    again = acquire(path)
    again.release()


def test_the_state_folder_is_made_private(tmp_path: Path):
    path = tmp_path / "new" / "state" / "modeld.lock"
    lock = acquire(path)
    try:
        assert (path.parent.stat().st_mode & 0o777) == 0o700
        assert (path.stat().st_mode & 0o777) == 0o600
    finally:
        lock.release()
