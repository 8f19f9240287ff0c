"""The CLI's error, and the exit codes a command ends with (CONTRACT.md's list)."""

from __future__ import annotations

from modeld.errors import ModeldError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NO_DAEMON = 3


class CliError(ModeldError):
    """Ends the command with a one-line message on stderr and an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE):
        super().__init__(message)
        self.code = code
