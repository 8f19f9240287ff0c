"""One process at a time: an exclusive lock on a file that names its holder's pid.

Used by the daemon (one per state dir) and the tray (one icon per daemon).
flock() rather than "does the pid in the file still run": the kernel drops the
lock when its holder dies, however it dies, so a file left by a killed process
is never mistaken for a live one, and a recycled pid cannot fool it either.
The pid written into the file is only there to name the holder in messages.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

# raised here; importers take it from here too (`as`: an explicit re-export)
from modeld.errors import LockHeld as LockHeld


class PidLock:
    """An acquired lock; it lasts until release() or the end of the process."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        """Give the lock up (closing the file drops it); the file stays for the next holder."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def acquire(path: Path) -> PidLock:
    """Take the lock on `path` without waiting, and write our pid into it.

    Creates the parent folder (private to the user) and the file. Raises
    LockHeld when another holder has it, including another acquire() in this
    same process: flock locks belong to an open file, not to a process.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise LockHeld(path, pid) from None
    # a previous holder's longer pid must not leave digits behind
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return PidLock(path, fd)
